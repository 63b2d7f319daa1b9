// The guide's MonitoredONNXService in C++: each answer carries its inference time, the number
// of requests served so far and their average time, and the execution providers. The same
// counts are exported on GET /metrics for Prometheus:
//   onnx_inference_requests_total, onnx_inference_time_seconds_total (counters) and
//   onnx_inference_average_time_seconds (a gauge), labelled with service_name.
// The totals are safe under concurrent requests (a mutex guards them).
//
// The model is "monitored_model:latest": a handwritten-digit classifier, [batch, 64] pixel
// values in, [batch, 10] probabilities out (saved by examples/monitored/save-model).
#include <chrono>
#include <mutex>
#include <optional>

#include "bento/lists.h"
#include "bento/onnx.h"
#include "bento/service.h"

class MonitoredONNXService : public bento::Service {
 public:
  MonitoredONNXService() : Service("MonitoredONNXService") {
    session_ = bento::onnx::load_model("monitored_model:latest").value();

    Api("predict_with_timing", &MonitoredONNXService::PredictWithTiming, {"input_data"},
        "Run the model; the answer carries timing and request counts");

    using Type = bento::ServiceMetric::Type;
    Metric("onnx_inference_requests_total", "Requests answered by predict_with_timing",
           Type::kCounter, [this] { return static_cast<double>(Snapshot().request_count); });
    Metric("onnx_inference_time_seconds_total", "Time spent in predict_with_timing",
           Type::kCounter, [this] { return Snapshot().total_time; });
    Metric("onnx_inference_average_time_seconds", "Mean time of a predict_with_timing call",
           Type::kGauge, [this] { return Snapshot().average_time(); });
  }

  bento::StatusOr<bento::Json> PredictWithTiming(
      const std::vector<std::vector<float>>& input_data) {
    auto start_time = std::chrono::steady_clock::now();

    ASSIGN_OR_RETURN(bento::Tensor input_array, bento::FromRows(input_data));
    const std::string& input_name = session_->inputs()[0].name;
    const std::string& output_name = session_->outputs()[0].name;
    ASSIGN_OR_RETURN(auto outputs, session_->Run({{input_name, input_array}}, {output_name}));

    double inference_time =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
    Totals totals = Record(inference_time);

    ASSIGN_OR_RETURN(bento::Json predictions, bento::ToList(outputs[0]));
    return bento::Json{{"predictions", predictions},
                       {"inference_time", inference_time},
                       {"total_requests", totals.request_count},
                       {"average_time", totals.average_time()},
                       {"providers", session_->providers()}};
  }

 private:
  // The guide keeps every inference time in a list; their count and sum give the same
  // average in constant memory.
  struct Totals {
    int64_t request_count = 0;
    double total_time = 0;
    double average_time() const { return request_count ? total_time / request_count : 0; }
  };

  // Adds one request and returns the totals including it.
  Totals Record(double inference_time) {
    std::lock_guard<std::mutex> lock(mu_);
    totals_.request_count += 1;
    totals_.total_time += inference_time;
    return totals_;
  }
  Totals Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return totals_;
  }

  std::optional<bento::onnx::Session> session_;
  mutable std::mutex mu_;
  Totals totals_;  // guarded by mu_
};

BENTO_SERVICE_MAIN(MonitoredONNXService)
