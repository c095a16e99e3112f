// One PostgreSQL connection (libpq) with the statement API of sqlite::Database:
// prepare() a cached statement, bind() parameters, step() through rows, read
// column<T>(). SQL is written with SQLite's numbered parameters (?1, ?2, ...) and
// turned into PostgreSQL's ($1, $2, ...), so one text of a query serves either
// database. Values travel as text; integers, enums and bools as decimal numbers.
// Not thread-safe: the owner serializes every call, as with SQLite.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/host/error.h"

namespace updraft::server::postgres {

// The store error for a failed command, with PostgreSQL's message: unique or
// exclusion violation -> kStoreConflict, foreign key -> kStoreNotFound,
// serialization failure, deadlock or lock timeout -> kStoreBusy, data corrupted
// -> kStoreCorrupt, anything else (a lost connection too) -> kStoreIo.
Error postgres_error(const PGresult* result, PGconn* connection);

// ?N -> $N outside quoted strings and identifiers. `used`, when given, gets
// used[N - 1] = true for each parameter the text names.
std::string numbered_parameters(std::string_view sql, std::vector<bool>* used = nullptr);

class Connection;

// One execution of a cached statement: bind, then step() (the first call runs it)
// or run(). A Statement is used once; prepare() again for the next execution.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  // Parameters are numbered from 1; an unbound one is NULL.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, double value);
  template <typename T>
  requires(std::is_integral_v<T> || std::is_enum_v<T>) Statement& bind(int index, T value) {
    if constexpr (std::is_same_v<T, bool>) {
      return set(index, value ? "1" : "0");
    } else if constexpr (std::is_enum_v<T>) {
      return set(index, std::to_string(static_cast<std::int64_t>(value)));
    } else {
      return set(index, std::to_string(value));
    }
  }

  // True when a row is ready to read, false when there are no more.
  HostResult<bool> step();
  // Runs a statement whose rows are not needed.
  HostResult<void> run();
  // Rows the command inserted, updated or deleted (after step() or run()).
  std::int64_t changes() const { return changes_; }

  // Columns are numbered from 0; NULL reads as empty text or 0.
  template <typename T>
  T column(int index) const {
    const char* text = PQgetvalue(result_.get(), row_, index);
    if constexpr (std::is_same_v<T, std::string>) {
      return std::string(text, static_cast<std::size_t>(PQgetlength(result_.get(), row_, index)));
    } else if constexpr (std::is_same_v<T, double>) {
      return std::strtod(text, nullptr);
    } else if constexpr (std::is_same_v<T, bool>) {
      return text[0] == 't' ||
             (text[0] != '\0' && text[0] != 'f' && std::strtoll(text, nullptr, 10) != 0);
    } else {
      return static_cast<T>(std::strtoll(text, nullptr, 10));
    }
  }

 private:
  friend class Connection;
  struct Clear {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  Statement(PGconn* connection, std::string name, std::size_t param_count)
      : connection_(connection), name_(std::move(name)), params_(param_count) {}
  Statement& set(int index, std::string value);
  HostResult<void> execute();

  PGconn* connection_ = nullptr;
  std::string name_;  // of the server-side prepared statement
  std::vector<std::optional<std::string>> params_;
  std::unique_ptr<PGresult, Clear> result_;
  bool executed_ = false;
  int row_ = -1;
  std::int64_t changes_ = 0;
};

class Connection {
 public:
  using Statement = postgres::Statement;
  static constexpr const char* kBeginTransaction = "BEGIN";
  // A queue row another server is taking is passed over, not waited for.
  static constexpr const char* kSkipLocked = " FOR UPDATE SKIP LOCKED";

  // Connects with a libpq connection string or URI ("postgresql://user@host:port/db").
  // kStoreIo with libpq's reason when the server cannot be reached or refuses.
  static HostResult<Connection> open(const std::string& conninfo);

  // Runs one or more statements whose rows are not needed (migrations, BEGIN).
  HostResult<void> exec(std::string_view sql);

  // The statement for `sql` (?N parameters), prepared on the server on first use
  // and kept until the connection closes.
  HostResult<Statement> prepare(const std::string& sql);

  // libpq's handle, for what the statement API does not cover (LISTEN's socket).
  PGconn* native() const { return connection_.get(); }

 private:
  struct Finish {
    void operator()(PGconn* connection) const { PQfinish(connection); }
  };
  std::unique_ptr<PGconn, Finish> connection_;
  struct Prepared {
    std::string name;
    std::size_t param_count = 0;
  };
  std::unordered_map<std::string, Prepared> prepared_;  // by SQL text
};

}  // namespace updraft::server::postgres
