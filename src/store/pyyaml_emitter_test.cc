#include "store/pyyaml_emitter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "store/pyyaml_scalar.h"

namespace bento::store::internal {
namespace {

// Input and output of PyYAML 6 `yaml.safe_dump(doc, sort_keys=False)` (the Python that
// BentoML 1.4 uses), for scalars that exercise every quoting rule, folding at 80 columns,
// long and empty keys, nesting and float formatting. The floats NaN/Inf stand in for
// float('nan') and float('inf'), which JSON cannot hold.
const char* const kGoldenJson =
    R"json({"plain": "hello world", "num_str": "3", "float_str": "1.5", "exp_str": "1e5")json"
    R"json(, "hex": "0x1f", "under": "1_000", "sexa": "12:30", "null_str": "null", "tilde": "~")json"
    R"json(, "Yes": "Yes", "on": "on", "date": "2024-01-01", "dash": "- a", "colon": ": x")json"
    R"json(, "colon_mid": "a: b", "hash": "a #b", "hash2": "a#b", "hashlead": "#x", "quote": "it's")json"
    R"json(, "tab": "tab\tx", "lead": " lead", "trail": "trail ", "dashes": "---", "at": "@x")json"
    R"json(, "pct": "%x", "nl_end": "x\n", "multi": "line one\n  indented\nlast")json"
    R"json(, "emoji": "\ud83d\ude00 smile", "ls": "a\u2028b")json"
    R"json(, "long_spaces": "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word end")json"
    R"json(, "long_nospace": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")json"
    R"json(, "long_unicode": "\u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 \u00e9 ")json"
    R"json(, "long_quoted": "it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's ")json"
    R"json(, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": "long key")json"
    R"json(, "": "empty key", "multi\nkey": 1)json"
    R"json(, "floats": [1e+16, 1000000000000000.0, 0.0001, 1e-05, -0.0, 1.7976931348623157e+308, 5e-324)json"
    R"json(, "NaN", "Inf", "-Inf", 0.1, 100.0, 123456.789, 1.5e+300])json"
    R"json(, "ints": [0, -1, 4611686018427387904, -9223372036854775808, 18446744073709551615])json"
    R"json(, "bools": [true, false], "none": null, "nested": [[1, 2], [], {}, {"a": [{"b": "c")json"
    R"json(, "d": []}]}, [[["deep"]]]], "map_in_list": [{"x": 1, "y": {"z": "w"}}], "emptystr": "")json"
    R"json(, "space": " ", "question": "?x", "q2": "? x", "bang": "!x", "amp": "&x", "star": "*x")json"
    R"json(, "bar": "|x", "gt": ">x", "comma": "a,b", "brackets": "a[b]", "backslash": "a\\b")json"
    R"json(, "dq": "say \"hi\"", "ctrl": "a\u0001b", "nbsp": "a\u00a0b", "eq": "=", "merge": "<<")json"
    R"json(, "dot": ".", "inf_str": ".inf", "nan_str": ".NaN", "plus": "+1", "minus": "-")json"
    R"json(, "octal": "0777", "bin": "0b101", "ts": "2026-11-26T17:46:31.698874+00:00")json"
    R"json(, "ts2": "2001-12-14 21:59:43.10 -5")json"
    R"json(, "long_dq_spaces": "\u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word \u00e9 word ")json"
    R"json(, "breaks_spaces": "a \nb", "nl_lead": "\nx", "dbl_nl": "a\n\nb")json"
    R"json(, "long_multi": "long line of words long line of words long line of words long line of words long line of words long line of words \nsecond long line second long line second long line second long line second long line second long line "})json";

const char* const kGoldenYaml = R"yaml(plain: hello world
num_str: '3'
float_str: '1.5'
exp_str: 1e5
hex: '0x1f'
under: '1_000'
sexa: '12:30'
null_str: 'null'
tilde: '~'
'Yes': 'Yes'
'on': 'on'
date: '2024-01-01'
dash: '- a'
colon: ': x'
colon_mid: 'a: b'
hash: 'a #b'
hash2: a#b
hashlead: '#x'
quote: it's
tab: "tab\tx"
lead: ' lead'
trail: 'trail '
dashes: '---'
at: '@x'
pct: '%x'
nl_end: 'x

  '
multi: "line one\n  indented\nlast"
emoji: "\U0001F600 smile"
ls: "a\Lb"
long_spaces: word word word word word word word word word word word word word word
  word word word word word word word word word word word word word word word word
  end
long_nospace: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
long_unicode: "\xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9\
  \ \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9\
  \ \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9\
  \ \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 \xE9 "
long_quoted: 'it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s
  it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s '
? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
: long key
? ''
: empty key
? 'multi

  key'
: 1
floats:
- 1.0e+16
- 1000000000000000.0
- 0.0001
- 1.0e-05
- -0.0
- 1.7976931348623157e+308
- 5.0e-324
- .nan
- .inf
- -.inf
- 0.1
- 100.0
- 123456.789
- 1.5e+300
ints:
- 0
- -1
- 4611686018427387904
- -9223372036854775808
- 18446744073709551615
bools:
- true
- false
none: null
nested:
- - 1
  - 2
- []
- {}
- a:
  - b: c
    d: []
- - - - deep
map_in_list:
- x: 1
  y:
    z: w
emptystr: ''
space: ' '
question: ?x
q2: '? x'
bang: '!x'
amp: '&x'
star: '*x'
bar: '|x'
gt: '>x'
comma: a,b
brackets: a[b]
backslash: a\b
dq: say "hi"
ctrl: "a\x01b"
nbsp: "a\_b"
eq: '='
merge: '<<'
dot: .
inf_str: '.inf'
nan_str: '.NaN'
plus: '+1'
minus: '-'
octal: '0777'
bin: '0b101'
ts: '2026-11-26T17:46:31.698874+00:00'
ts2: '2001-12-14 21:59:43.10 -5'
long_dq_spaces: "\xE9 word \xE9 word \xE9 word \xE9 word \xE9 word \xE9 word \xE9\
  \ word \xE9 word \xE9 word \xE9 word \xE9 word \xE9 word \xE9 word \xE9 word \xE9\
  \ word \xE9 word \xE9 word \xE9 word \xE9 word \xE9 word "
breaks_spaces: "a \nb"
nl_lead: '

  x'
dbl_nl: 'a


  b'
long_multi: "long line of words long line of words long line of words long line of\
  \ words long line of words long line of words \nsecond long line second long line\
  \ second long line second long line second long line second long line "
)yaml";

OrderedJson GoldenDocument() {
  OrderedJson doc = OrderedJson::parse(kGoldenJson);
  for (auto& f : doc["floats"]) {
    if (f == "NaN") f = std::numeric_limits<double>::quiet_NaN();
    if (f == "Inf") f = std::numeric_limits<double>::infinity();
    if (f == "-Inf") f = -std::numeric_limits<double>::infinity();
  }
  return doc;
}

TEST(PyYamlEmitterTest, MatchesPyYamlSafeDump) {
  EXPECT_EQ(DumpPyYaml(GoldenDocument()), kGoldenYaml);
}

TEST(PyYamlEmitterTest, EmptyTopLevelCollections) {
  EXPECT_EQ(DumpPyYaml(OrderedJson{{"a", OrderedJson::object()}, {"b", OrderedJson::array()}}),
            "a: {}\nb: []\n");
}

TEST(PyYamlEmitterTest, KeysOf123CharactersAreComplexBecausePyYamlCountsTheTag) {
  OrderedJson doc = {{std::string(122, 'k'), 1}, {std::string(123, 'j'), 2}};
  EXPECT_EQ(DumpPyYaml(doc),
            std::string(122, 'k') + ": 1\n? " + std::string(123, 'j') + "\n: 2\n");
}

TEST(PyYamlScalarTest, FloatsAsPython) {
  EXPECT_EQ(PyYamlFloat(1.0), "1.0");
  EXPECT_EQ(PyYamlFloat(1e20), "1.0e+20");
  EXPECT_EQ(PyYamlFloat(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(PyYamlFloat(0.1), "0.1");
  EXPECT_EQ(PyYamlFloat(1e16), "1.0e+16");
  EXPECT_EQ(PyYamlFloat(123456789.125), "123456789.125");
}

TEST(PyYamlScalarTest, PlainScalarsResolveAsPyYaml) {
  EXPECT_EQ(ResolvePlainScalar("3"), Json(3));
  EXPECT_TRUE(ResolvePlainScalar("1.5").is_number_float());
  EXPECT_EQ(ResolvePlainScalar("1e5"), Json("1e5"));  // YAML 1.1 floats need a dot
  EXPECT_EQ(ResolvePlainScalar("0x1f"), Json(31));
  EXPECT_EQ(ResolvePlainScalar("0777"), Json(511));
  EXPECT_EQ(ResolvePlainScalar("1_000"), Json(1000));
  EXPECT_EQ(ResolvePlainScalar("1:30"), Json(90));
  EXPECT_EQ(ResolvePlainScalar("-0b101"), Json(-5));
  EXPECT_EQ(ResolvePlainScalar("yes"), Json(true));
  EXPECT_EQ(ResolvePlainScalar("Off"), Json(false));
  EXPECT_EQ(ResolvePlainScalar("~"), Json(nullptr));
  EXPECT_EQ(ResolvePlainScalar("2024-01-01"), Json("2024-01-01"));
  EXPECT_EQ(ResolvePlainScalar("18446744073709551615"), Json(18446744073709551615ull));
  EXPECT_TRUE(ResolvePlainScalar("99999999999999999999").is_number_float());
  EXPECT_TRUE(std::isinf(ResolvePlainScalar("-.inf").get<double>()));
  EXPECT_TRUE(std::isnan(ResolvePlainScalar(".NaN").get<double>()));
  EXPECT_EQ(ResolvePlainScalar("hello"), Json("hello"));
}

TEST(PyYamlScalarTest, QuotingNeeds) {
  EXPECT_TRUE(PlainResolvesToString("abc"));
  EXPECT_TRUE(PlainResolvesToString("1e5"));
  EXPECT_FALSE(PlainResolvesToString(""));
  EXPECT_FALSE(PlainResolvesToString("3"));
  EXPECT_FALSE(PlainResolvesToString("no"));
  EXPECT_FALSE(PlainResolvesToString("2026-11-26T17:46:31.698874+00:00"));
}

}  // namespace
}  // namespace bento::store::internal
