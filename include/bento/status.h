// Status and StatusOr<T>: bento's one error type.
//
// Every fallible function returns a Status (or a StatusOr<T> holding a value or an error).
// Exceptions thrown by ONNX Runtime, yaml-cpp, protobuf or Boost are caught at the boundary
// of the layer that calls them and turned into a Status. The mapping from Status codes to
// HTTP status codes lives in exactly one place (src/serving).
//
// Thread-safety: Status and StatusOr are values; distinct objects may be used from
// different threads freely, as with any std type.
#ifndef BENTO_STATUS_H_
#define BENTO_STATUS_H_

#include <cassert>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace bento {

// The codes follow absl/gRPC so that their meaning is familiar.
enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,     // bad user input: malformed, ill-typed, wrong shape
  kDeadlineExceeded = 4,    // a timeout
  kNotFound = 5,            // unknown model, tag, route or file
  kAlreadyExists = 6,       // e.g. importing a tag that is already stored
  kPermissionDenied = 7,
  kResourceExhausted = 8,   // over a size limit or over max_concurrency
  kFailedPrecondition = 9,  // the system is not in a state to do this
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,           // a bug
  kUnavailable = 14,        // not ready, or shed under load; retry later
  kDataLoss = 15,           // a corrupt file
  kUnauthenticated = 16,
};

// "OK", "INVALID_ARGUMENT", ...
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NOT_FOUND: no model 'x' in /root/bentoml/models"
  std::string ToString() const;

  // Returns a copy whose message is "context: message". OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status InternalError(std::string message);
Status UnimplementedError(std::string message);
Status DataLossError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);

// Thrown by StatusOr<T>::value() on an error, for code (a service's constructor, say) where
// an exception is the natural way out.
class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status)
      : std::runtime_error(status.ToString()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// Holds either a T or a non-OK Status. value() throws StatusError when there is no value;
// operator* and operator-> require ok().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // REQUIRES: !status.ok()
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "StatusOr built from OK Status");
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  template <typename U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, Status> &&
             !std::is_same_v<std::decay_t<U>, T> && !std::is_same_v<std::decay_t<U>, StatusOr>)
  StatusOr(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  // REQUIRES: ok()
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  void Check() const {
    if (!value_.has_value()) throw StatusError(status_);
  }
  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

}  // namespace bento

#define BENTO_CONCAT_INNER_(a, b) a##b
#define BENTO_CONCAT_(a, b) BENTO_CONCAT_INNER_(a, b)

// Returns the Status of `expr` (a Status or StatusOr) from the enclosing function if not OK.
// The Status is copied out of `expr` at once, so `expr` may be a temporary's member, such as
// `f().status()`.
#define RETURN_IF_ERROR(expr)                                                    \
  do {                                                                           \
    ::bento::Status bento_status_ = ::bento::internal::AsStatus(expr);          \
    if (!bento_status_.ok()) return bento_status_;                               \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()); declares or assigns `lhs` from a StatusOr, or
// returns its Status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(BENTO_CONCAT_(bento_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // BENTO_STATUS_H_
