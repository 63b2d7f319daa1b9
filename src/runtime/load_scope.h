// LoadScope: what a service executable's serve flags do to the models its own code loads.
//
// A C++ service loads its models itself, in its constructor (bento::onnx::load_model). While
// a LoadScope lives, every load_model call, from any thread:
//   - uses the scope's providers instead of those the code asked for, when the scope has any
//     (the executable's --providers), and its intra-op threads when set (--threads);
//   - records the session it made, so that the server can also serve those models over the
//     Open Inference Protocol (HTTP /v2 and, with --grpc-port, gRPC).
//
//   runtime::LoadScope scope({.providers = flags.providers, .threads = flags.threads});
//   auto service = factory();                      // the service's load_model calls
//   std::vector<onnx::Session> loaded = scope.sessions();
//
// At most one LoadScope lives at a time (ServeMain makes it); creating a second while one
// lives is a programming error (CHECK). Thread-safety: load_model may run on any thread
// while the scope lives; sessions() and the destructor must not race with such calls.
#ifndef BENTO_RUNTIME_LOAD_SCOPE_H_
#define BENTO_RUNTIME_LOAD_SCOPE_H_

#include <vector>

#include "bento/onnx.h"

namespace bento::runtime {

struct LoadOverrides {
  std::vector<onnx::Provider> providers;  // empty: the code's own
  int threads = 0;                        // intra-op threads; 0: the code's own
};

class LoadScope {
 public:
  explicit LoadScope(LoadOverrides overrides);
  ~LoadScope();
  LoadScope(const LoadScope&) = delete;
  LoadScope& operator=(const LoadScope&) = delete;

  // Every session load_model made while the scope lived, in load order.
  std::vector<onnx::Session> sessions() const;
};

// For load_model: applies the living scope's overrides, if any, to a load's arguments.
void ApplyLoadScope(std::vector<onnx::Provider>* providers, onnx::SessionOptions* options);
// For load_model: records a session it made in the living scope, if any.
void RecordInLoadScope(const onnx::Session& session);

}  // namespace bento::runtime

#endif  // BENTO_RUNTIME_LOAD_SCOPE_H_
