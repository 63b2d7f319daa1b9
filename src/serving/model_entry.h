// Internal: one served model of a ModelService (model_service.cc and model_service_kserve.cc).
#ifndef BENTO_SERVING_MODEL_ENTRY_H_
#define BENTO_SERVING_MODEL_ENTRY_H_

#include <atomic>
#include <memory>
#include <optional>

#include "batching/dispatcher.h"
#include "bento/onnx.h"
#include "serving/model_service.h"

namespace bento::serving {

struct ModelService::Entry {
  onnx::Model model;
  std::optional<onnx::Session> session;  // set once, before `loaded` turns true
  std::unique_ptr<batching::Dispatcher> batcher;  // batchable models; set before `loaded`
  std::atomic<bool> loaded{false};
  Status load_status = UnavailableError("model is still loading");  // guarded by `loaded`
};

}  // namespace bento::serving

#endif  // BENTO_SERVING_MODEL_ENTRY_H_
