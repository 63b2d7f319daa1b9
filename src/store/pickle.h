// Python's pickle format for JSON-like values: how BentoML keeps a model's custom objects
// (custom_objects.pkl, written with cloudpickle), so that bento and BentoML read each other's.
//
// WritePickle writes dicts, lists, strings, integers, floats, booleans and None as protocol 2,
// which every Python 3 reads. ReadPickle is a restricted reader for what Python's pickler
// writes for those same types in protocols 2 to 5 (tuples become lists): it imports nothing
// and calls nothing, so a pickle can only ever give a value. Any other opcode (a class, a
// function, a numpy array, bytes, a set) is refused with INVALID_ARGUMENT naming the
// top-level key whose value holds it.
//
// Thread-safe: pure functions.
#ifndef BENTO_STORE_PICKLE_H_
#define BENTO_STORE_PICKLE_H_

#include <string>
#include <string_view>

#include "bento/json.h"
#include "bento/status.h"

namespace bento::store {

std::string WritePickle(const Json& value);

StatusOr<Json> ReadPickle(std::string_view bytes);

}  // namespace bento::store

#endif  // BENTO_STORE_PICKLE_H_
