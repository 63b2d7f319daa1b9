#include "cli/processes.h"

#include <spdlog/spdlog.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace bento::cli {
namespace {

// How a worker ended, as a shell reports it: its exit code, or 128 + the signal that ended it.
int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Forked ForkServers(int count, const std::function<pid_t()>& fork_process) {
  if (count <= 1) return {.worker = true};
  // Blocked before the first fork, so that no stop or child signal is lost between forks;
  // the supervisor takes them with sigwait, each worker gets the caller's mask back.
  sigset_t signals, caller_mask;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, &caller_mask);
  const pid_t supervisor = ::getpid();
  std::map<pid_t, int> workers;  // pid -> worker number, from 1
  bool stopping = false;
  int exit_code = 0;
  auto signal_workers = [&workers](int number) {
    for (const auto& [pid, index] : workers) ::kill(pid, number);
  };
  for (int i = 1; i <= count; ++i) {
    pid_t pid = fork_process();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != supervisor) ::_exit(1);  // the supervisor died before prctl
      // Its own process group: a terminal's Ctrl-C reaches the supervisor alone, which
      // passes it on once (a second signal means "close connections now" to a server).
      ::setpgid(0, 0);
      pthread_sigmask(SIG_SETMASK, &caller_mask, nullptr);
      return {.worker = true};
    }
    if (pid < 0) {
      spdlog::error("cannot start worker process {} of {}: {}", i, count, std::strerror(errno));
      stopping = true;
      exit_code = 1;
      signal_workers(SIGTERM);
      break;
    }
    workers[pid] = i;
  }
  if (!stopping) {
    spdlog::info("{} worker processes serve on one port; this process ({}) supervises them",
                 count, supervisor);
  }
  while (!workers.empty()) {
    int number = 0;
    if (sigwait(&signals, &number) != 0) continue;
    if (number != SIGCHLD) {
      if (!stopping) spdlog::info("signal {} received: stopping the workers", number);
      stopping = true;
      signal_workers(number == SIGHUP ? SIGTERM : number);
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = workers.find(pid);
      if (it == workers.end()) continue;
      int index = it->second, code = ExitCode(status);
      workers.erase(it);
      if (!stopping) {
        spdlog::error("worker process {} (pid {}) exited with code {} while serving: stopping "
                      "the others",
                      index, pid, code);
        stopping = true;
        exit_code = code == 0 ? 1 : code;
        signal_workers(SIGTERM);
      } else if (code != 0 && exit_code == 0) {
        exit_code = code;
      }
    }
  }
  pthread_sigmask(SIG_SETMASK, &caller_mask, nullptr);
  return {.worker = false, .exit_code = exit_code};
}

}  // namespace bento::cli
