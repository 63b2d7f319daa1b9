#include "policy/metrics.h"

#include <charconv>
#include <cmath>

namespace bento::policy {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

void AppendNumber(double v, std::string* out) {
  if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    *out += "NaN";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

// Label values escape backslash, double quote and newline.
void AppendEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    if (c == '\\') *out += "\\\\";
    else if (c == '"') *out += "\\\"";
    else if (c == '\n') *out += "\\n";
    else *out += c;
  }
}

void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name, std::string_view extra_value, std::string* out) {
  if (names.empty() && extra_name.empty()) return;
  *out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) *out += ',';
    first = false;
    *out += names[i] + "=\"";
    AppendEscaped(values[i], out);
    *out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) *out += ',';
    *out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  *out += '}';
}

}  // namespace

void AppendHistogramSamples(const std::string& name, const std::vector<std::string>& label_names,
                            const std::vector<std::string>& label_values,
                            const std::vector<double>& bounds,
                            const std::vector<uint64_t>& cumulative, double sum,
                            std::string* out) {
  for (size_t i = 0; i <= bounds.size() && i < cumulative.size(); ++i) {
    std::string le;
    AppendNumber(i < bounds.size() ? bounds[i] : INFINITY, &le);
    *out += name + "_bucket";
    AppendLabels(label_names, label_values, "le", le, out);
    *out += ' ' + std::to_string(cumulative[i]) + '\n';
  }
  *out += name + "_sum";
  AppendLabels(label_names, label_values, "", "", out);
  *out += ' ';
  AppendNumber(sum, out);
  *out += '\n' + name + "_count";
  AppendLabels(label_names, label_values, "", "", out);
  *out += ' ' + std::to_string(cumulative.empty() ? 0 : cumulative.back()) + '\n';
}

void AppendSample(const std::string& name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, double value, std::string* out) {
  *out += name;
  AppendLabels(label_names, label_values, "", "", out);
  *out += ' ';
  AppendNumber(value, out);
  *out += '\n';
}

void Counter::Inc(double v) { AtomicAdd(value_, v); }
void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  s.count = running;
  return s;
}

template <typename T>
void Family<T>::Render(std::string_view type, std::string* out) const {
  *out += "# HELP " + name_ + " " + help_ + "\n# TYPE " + name_ + " " + std::string(type) + "\n";
  MutexLock lock(mu_);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      auto snap = child->snapshot();
      AppendHistogramSamples(name_, labels_, values, bounds_, snap.cumulative, snap.sum, out);
    } else {
      AppendSample(name_, labels_, values, child->value(), out);
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& MetricsRegistry::AddCounter(std::string name, std::string help,
                                             std::vector<std::string> labels) {
  MutexLock lock(mu_);
  counters_.push_back(std::make_unique<Family<Counter>>(std::move(name), std::move(help),
                                                        std::move(labels)));
  return *counters_.back();
}

Family<Gauge>& MetricsRegistry::AddGauge(std::string name, std::string help,
                                         std::vector<std::string> labels) {
  MutexLock lock(mu_);
  gauges_.push_back(
      std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels)));
  return *gauges_.back();
}

Family<Histogram>& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                 std::vector<std::string> labels,
                                                 std::vector<double> bounds) {
  MutexLock lock(mu_);
  histograms_.push_back(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), std::move(labels), std::move(bounds)));
  return *histograms_.back();
}

std::string MetricsRegistry::Render() const {
  std::string out;
  MutexLock lock(mu_);
  for (const auto& f : counters_) f->Render("counter", &out);
  for (const auto& f : gauges_) f->Render("gauge", &out);
  for (const auto& f : histograms_) f->Render("histogram", &out);
  for (const auto& collect : collectors_) collect(&out);
  return out;
}

void MetricsRegistry::AddCollector(Collector collector) {
  MutexLock lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
          30.0, 60.0, 120.0, 180.0};
}

}  // namespace bento::policy
