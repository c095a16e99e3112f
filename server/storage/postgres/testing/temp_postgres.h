// A private PostgreSQL server for one test: initdb in a temporary directory,
// started with pg_ctl on a free loopback port (and a socket in that directory),
// stopped and deleted when the object goes. Uses Debian's server binaries
// (`pg_config --bindir`, else /usr/lib/postgresql/*/bin); as root, initdb and
// the server run as the `postgres` user, since PostgreSQL refuses to run as root.
// Host only; tests skip (never pass) when start() says the binaries are absent.
#pragma once

#include <memory>
#include <string>

#include "core/host/error.h"

namespace updraft::server::postgres {

class TempPostgres {
 public:
  // Creates, configures and starts the server; kStoreIo with pg_ctl's log when it
  // cannot. Check available() first: without the binaries this fails.
  static HostResult<std::unique_ptr<TempPostgres>> start();
  // True when the server binaries (initdb, pg_ctl) can be found.
  static bool available();
  // One server for the whole test process, started on first use and stopped at
  // exit; tests give each case its own database (create_database).
  static HostResult<TempPostgres*> shared();

  ~TempPostgres();
  TempPostgres(const TempPostgres&) = delete;
  TempPostgres& operator=(const TempPostgres&) = delete;

  // A libpq URI for a fresh database `name` (created on first call).
  HostResult<std::string> create_database(const std::string& name);
  // The URI of the server's `postgres` database.
  std::string uri(const std::string& database = "postgres") const;
  int port() const { return port_; }

 private:
  TempPostgres() = default;
  std::string bindir_, dir_;
  int port_ = 0;
  bool as_postgres_user_ = false;
  bool running_ = false;
};

}  // namespace updraft::server::postgres
