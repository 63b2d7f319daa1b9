// A service's worker processes (BentoML's `workers`): N copies of one server sharing a port.
//
// ForkServers runs before the service is made, so each process constructs its own service
// instance and loads its own models, as BentoML's workers do; the kernel spreads connections
// among them (SO_REUSEPORT, http::ServerOptions::reuse_port). The first process stays behind
// as their supervisor and serves nothing:
//   - SIGTERM, SIGINT and SIGHUP are passed on to every worker, which drains and exits;
//   - a worker that exits while no stop was asked for (a crash, a failed start) stops the
//     others, and the supervisor exits non-zero: the process manager that started bento
//     (Kubernetes, systemd, a shell) sees a failed server rather than one serving at a
//     fraction of its capacity;
//   - a worker whose supervisor dies gets SIGTERM (PR_SET_PDEATHSIG).
#ifndef BENTO_CLI_PROCESSES_H_
#define BENTO_CLI_PROCESSES_H_

#include <sys/types.h>

#include <functional>

namespace bento::cli {

struct Forked {
  bool worker = false;  // true in each worker process: serve, and return its exit code
  int exit_code = 0;    // in the supervisor: the servers' exit code, once they are all gone
};

// Forks `count` (>= 1) worker processes with `fork_process` (::fork, or a language runtime's
// own fork that keeps its interpreter sound in the child). Returns at once in each worker,
// with the signal mask the caller had; in the supervisor, when every worker has exited.
// `count` 1 forks nothing: the caller is the one worker.
Forked ForkServers(int count, const std::function<pid_t()>& fork_process);

}  // namespace bento::cli

#endif  // BENTO_CLI_PROCESSES_H_
