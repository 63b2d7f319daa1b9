// The server's one Prometheus registry: counters, gauges and histograms with labels, plus
// collectors (metrics kept elsewhere, such as a batcher's statistics, rendered at each
// scrape), in the Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
// One registry serves a process: request metrics from every transport (policy/admission.h),
// the worker queue, batchers and a service's own metrics all render from it, so a series is
// never written twice.
//
// Families are created once at start-up; children (one per label-value combination) are
// created on first use and live as long as the registry, so hot paths may keep pointers to
// them. Updating a child is lock-free (atomics); creating one takes the family's mutex.
// Thread-safe throughout.
#ifndef BENTO_POLICY_METRICS_H_
#define BENTO_POLICY_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/thread_annotations.h"

namespace bento::policy {

class Counter {
 public:
  void Inc(double v = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double v);
  // Cumulative counts per bound (the last is +Inf), sum and count.
  struct Snapshot {
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0.0};
  std::atomic<uint64_t> count_{0};
};

// A named metric with fixed label names; children by label values.
template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}

  // REQUIRES: values.size() == number of label names.
  T& With(const std::vector<std::string>& values) {
    MutexLock lock(mu_);
    auto& slot = children_[values];
    if (!slot) {
      if constexpr (std::is_same_v<T, Histogram>) slot = std::make_unique<T>(bounds_);
      else slot = std::make_unique<T>();
    }
    return *slot;
  }

  void Render(std::string_view type, std::string* out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable Mutex mu_;
  // The map, not the children's values (atomics, updated with no lock).
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_ GUARDED_BY(mu_);
};

class MetricsRegistry {
 public:
  // REQUIRES: called at start-up, before Render runs concurrently; names are unique.
  Family<Counter>& AddCounter(std::string name, std::string help, std::vector<std::string> labels);
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> labels);
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels, std::vector<double> bounds);

  // A collector appends whole families (# HELP, # TYPE and samples) to `out` at each scrape.
  // It is called on a scraping thread, concurrently with everything else, and must be
  // thread-safe; whatever it captures must outlive the registry's last Render.
  using Collector = std::function<void(std::string* out)>;
  void AddCollector(Collector collector);

  // The whole registry in Prometheus text format: families, then collectors, in the order
  // they were added.
  std::string Render() const;

 private:
  // Guards the vectors; families and collectors are only added, never removed, so a
  // reference handed out stays valid without it.
  mutable Mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_ GUARDED_BY(mu_);
  std::vector<Collector> collectors_ GUARDED_BY(mu_);
};

// Text-format helpers for metrics kept elsewhere (the batcher's stats): one histogram's
// _bucket/_sum/_count lines (`cumulative` has one count per bound plus +Inf), and one sample.
// The caller writes the # HELP / # TYPE lines.
void AppendHistogramSamples(const std::string& name, const std::vector<std::string>& label_names,
                            const std::vector<std::string>& label_values,
                            const std::vector<double>& bounds,
                            const std::vector<uint64_t>& cumulative, double sum, std::string* out);
void AppendSample(const std::string& name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, double value, std::string* out);

// Prometheus' default latency buckets, extended as BentoML's to 180 s.
std::vector<double> DefaultLatencyBuckets();

}  // namespace bento::policy

#endif  // BENTO_POLICY_METRICS_H_
