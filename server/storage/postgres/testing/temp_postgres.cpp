#include "server/storage/postgres/testing/temp_postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/storage/postgres/connection.h"

namespace updraft::server::postgres {
namespace {

namespace fs = std::filesystem;

std::string find_bindir() {
  if (FILE* pipe = popen("pg_config --bindir 2>/dev/null", "r")) {
    char line[512] = {};
    const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
    pclose(pipe);
    std::string dir = got ? line : "";
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == ' ')) dir.pop_back();
    if (!dir.empty() && fs::exists(dir + "/initdb") && fs::exists(dir + "/pg_ctl")) return dir;
  }
  // Debian keeps the server binaries off the PATH, one folder per major version.
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string dir = entry.path().string() + "/bin";
    if (fs::exists(dir + "/initdb") && fs::exists(dir + "/pg_ctl") && dir > best) best = dir;
  }
  return best;
}

// A loopback port free right now (the server binds it a moment later; start()
// retries on the rare clash).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool TempPostgres::available() { return !find_bindir().empty(); }

HostResult<TempPostgres*> TempPostgres::shared() {
  static HostResult<std::unique_ptr<TempPostgres>> server = start();
  if (!server.ok()) return server.error();
  return server->get();
}

HostResult<std::unique_ptr<TempPostgres>> TempPostgres::start() {
  std::unique_ptr<TempPostgres> pg(new TempPostgres());
  pg->bindir_ = find_bindir();
  if (pg->bindir_.empty()) {
    return Error(ErrorCode::kStoreIo, "PostgreSQL server binaries not found (Debian: postgresql)");
  }
  char dir_template[] = "/tmp/updraft-pg-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return Error(ErrorCode::kStoreIo, "mkdtemp failed");
  pg->dir_ = dir_template;
  std::string run_as;
  if (geteuid() == 0) {
    const passwd* user = getpwnam("postgres");
    if (user == nullptr || chown(pg->dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return Error(ErrorCode::kStoreIo,
                   "running as root needs the postgres user to own " + pg->dir_);
    }
    pg->as_postgres_user_ = true;
    run_as = "runuser -u postgres -- ";
  }
  const std::string log = pg->dir_ + "/commands.log";
  const std::string initdb = run_as + pg->bindir_ + "/initdb -D " + pg->dir_ +
                             "/data -U updraft --auth=trust --no-locale -E UTF8 --no-sync >" + log +
                             " 2>&1";
  if (std::system(initdb.c_str()) != 0) {
    return Error(ErrorCode::kStoreIo, "initdb failed: " + read_text(log));
  }
  for (int attempt = 0; attempt < 5 && !pg->running_; ++attempt) {
    pg->port_ = free_port();
    // fsync off: a test's data need not survive a power cut, and it saves seconds.
    const std::string options = "-p " + std::to_string(pg->port_) + " -k " + pg->dir_ +
                                " -c listen_addresses=127.0.0.1 -c fsync=off"
                                " -c synchronous_commit=off -c full_page_writes=off";
    const std::string start_cmd = run_as + pg->bindir_ + "/pg_ctl -D " + pg->dir_ + "/data -l " +
                                  pg->dir_ + "/server.log -w -t 30 -o '" + options + "' start >>" +
                                  log + " 2>&1";
    pg->running_ = std::system(start_cmd.c_str()) == 0;
  }
  if (!pg->running_) {
    return Error(ErrorCode::kStoreIo,
                 "pg_ctl start failed: " + read_text(pg->dir_ + "/server.log"));
  }
  return pg;
}

TempPostgres::~TempPostgres() {
  if (running_) {
    const std::string stop = std::string(as_postgres_user_ ? "runuser -u postgres -- " : "") +
                             bindir_ + "/pg_ctl -D " + dir_ +
                             "/data -m immediate -w stop >/dev/null 2>&1";
    [[maybe_unused]] const int rc = std::system(stop.c_str());
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string TempPostgres::uri(const std::string& database) const {
  return "postgresql://updraft@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

HostResult<std::string> TempPostgres::create_database(const std::string& name) {
  UPDRAFT_TRY_ASSIGN(Connection admin, Connection::open(uri()));
  UPDRAFT_TRY(admin.exec("CREATE DATABASE \"" + name + "\""));
  return uri(name);
}

}  // namespace updraft::server::postgres
