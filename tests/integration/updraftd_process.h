// A real updraftd process for tests: started on a fresh (or given) data directory
// on an ephemeral port, stopped with SIGTERM or killed with SIGKILL. Host only.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace updraft::testing {

class UpdraftdProcess {
 public:
  // Starts updraftd on `data_dir` and waits (bounded) until it listens.
  explicit UpdraftdProcess(std::string data_dir, std::vector<std::string> extra = {})
      : data_dir_(std::move(data_dir)) {
    std::filesystem::create_directories(data_dir_);
    const std::string port_file = data_dir_ + "/port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {UPDRAFTD,      "--data",  data_dir_,   "--port", "0",
                                     "--port-file", port_file, "--tick-ms", "100"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string log = data_dir_ + "/updraftd.log";
      std::FILE* out = std::freopen(log.c_str(), "a", stdout);
      std::FILE* err = std::freopen(log.c_str(), "a", stderr);
      (void)out;
      (void)err;
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      std::ifstream in(port_file);
      in >> port_;
    }
  }
  ~UpdraftdProcess() { stop(); }

  bool started() const { return port_ != 0; }
  std::uint16_t port() const { return port_; }
  std::string admin_token() const {
    std::ifstream in(data_dir_ + "/admin.token");
    std::string token;
    in >> token;
    return token;
  }

  // SIGTERM and wait (bounded); SIGKILL if it does not stop.
  void stop() { end(SIGTERM); }
  // SIGKILL: the process gets no chance to flush or close anything.
  void kill9() { end(SIGKILL); }

 private:
  void end(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string data_dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace updraft::testing
