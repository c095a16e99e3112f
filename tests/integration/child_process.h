// What process-level tests share: a child process they start and end, and a
// bounded wait for a condition. Host only.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace updraft::testing {

// The whole file at `path` (empty when it cannot be read): logs for failure messages.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// True once `done()` is; polls every 50 ms for at most `timeout_ms`.
template <typename Predicate>
bool eventually(Predicate done, int timeout_ms = 8000) {
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// A child process in its own process group (so a kill also ends what it spawned),
// stdout and stderr appended to `log`. Killed when destroyed.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> args, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::_Exit(127);
    }
    ::setpgid(pid_, pid_);
  }
  ~ChildProcess() { end(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The process id (of what the child exec'd last); -1 once it has ended.
  pid_t pid() const { return pid_; }

  // Sends `signal` to the group and waits (`grace_ms` at most, then SIGKILL);
  // returns the exit status, or 128 + the signal that ended it.
  int end(int signal, int grace_ms = 10'000) {
    if (pid_ <= 0) return status_;
    ::kill(-pid_, signal);
    int status = 0;
    const int polls = grace_ms / 25;
    for (int i = 0; i < polls; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
      if (i == polls - 1) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ::kill(-pid_, SIGKILL);  // anything it left behind in its group
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }
  // Waits (bounded) for the process to exit by itself; kills it after `timeout_ms`.
  int wait(int timeout_ms) {
    int status = 0;
    for (int waited = 0; waited < timeout_ms; waited += 25) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return end(SIGKILL);
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace updraft::testing
