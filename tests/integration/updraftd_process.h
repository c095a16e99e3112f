// A real updraftd process for tests: started on a fresh (or given) data directory
// on an ephemeral port, stopped with SIGTERM or killed with SIGKILL. Host only.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/child_process.h"

namespace updraft::testing {

class UpdraftdProcess {
 public:
  // Starts updraftd on `data_dir` and waits (bounded) until it listens. Its port
  // file and log go to `own_dir` (default: data_dir), so several processes can
  // share one data directory.
  explicit UpdraftdProcess(std::string data_dir, std::vector<std::string> extra = {},
                           std::string own_dir = "")
      : data_dir_(std::move(data_dir)), own_dir_(own_dir.empty() ? data_dir_ : own_dir) {
    std::filesystem::create_directories(data_dir_);
    std::filesystem::create_directories(own_dir_);
    const std::string port_file = own_dir_ + "/port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {UPDRAFTD,      "--data",  data_dir_,   "--port", "0",
                                     "--port-file", port_file, "--tick-ms", "100"};
    args.insert(args.end(), extra.begin(), extra.end());
    child_ = std::make_unique<ChildProcess>(std::move(args), own_dir_ + "/updraftd.log");
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

  // What the process has written to its log so far.
  std::string log() const {
    std::ifstream in(own_dir_ + "/updraftd.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // SIGTERM and wait 5 s at most; SIGKILL if it does not stop. Returns the exit
  // status, or 128 + the signal that ended it.
  int stop() { return child_->end(SIGTERM, 5'000); }
  // SIGKILL: the process gets no chance to flush or close anything.
  void kill9() { child_->end(SIGKILL); }

 private:
  std::string data_dir_;
  std::string own_dir_;
  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
};

}  // namespace updraft::testing
