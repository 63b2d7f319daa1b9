#include "runtime/load_scope.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "base/thread_annotations.h"

namespace bento::runtime {
namespace {

struct ScopeState {
  LoadOverrides overrides;
  std::vector<onnx::Session> sessions;
};

Mutex scope_mu;
ScopeState* scope GUARDED_BY(scope_mu) = nullptr;  // the living LoadScope's state

}  // namespace

LoadScope::LoadScope(LoadOverrides overrides) {
  MutexLock lock(scope_mu);
  if (scope != nullptr) {
    spdlog::critical("two LoadScopes at once");
    std::abort();
  }
  scope = new ScopeState{std::move(overrides), {}};
}

LoadScope::~LoadScope() {
  MutexLock lock(scope_mu);
  delete scope;
  scope = nullptr;
}

std::vector<onnx::Session> LoadScope::sessions() const {
  MutexLock lock(scope_mu);
  return scope->sessions;
}

void ApplyLoadScope(std::vector<onnx::Provider>* providers, onnx::SessionOptions* options) {
  MutexLock lock(scope_mu);
  if (scope == nullptr) return;
  if (!scope->overrides.providers.empty()) *providers = scope->overrides.providers;
  if (scope->overrides.threads > 0) options->intra_op_num_threads = scope->overrides.threads;
}

void RecordInLoadScope(const onnx::Session& session) {
  MutexLock lock(scope_mu);
  if (scope != nullptr) scope->sessions.push_back(session);
}

}  // namespace bento::runtime
