#include "server/storage/postgres/connection.h"

#include <cstdlib>
#include <cstring>

namespace updraft::server::postgres {

Error postgres_error(const PGresult* result, PGconn* connection) {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message.empty() && connection != nullptr) message = PQerrorMessage(connection);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  if (sqlstate == "23503") {
    return Error(ErrorCode::kStoreNotFound, "refers to a missing record (" + message + ")");
  }
  if (sqlstate == "23505" || sqlstate == "23P01") {
    return Error(ErrorCode::kStoreConflict, "already exists (" + message + ")");
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return Error(ErrorCode::kStoreBusy, std::move(message));
  }
  if (sqlstate == "XX001" || sqlstate == "XX002") {
    return Error(ErrorCode::kStoreCorrupt, std::move(message));
  }
  return Error(ErrorCode::kStoreIo, message.empty() ? "PostgreSQL command failed" : message);
}

std::string numbered_parameters(std::string_view sql, std::vector<bool>* used) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // inside '...' or "..."
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '$';
      if (used != nullptr) {
        std::size_t n = 0;
        for (std::size_t j = i + 1; j < sql.size() && sql[j] >= '0' && sql[j] <= '9'; ++j) {
          n = n * 10 + static_cast<std::size_t>(sql[j] - '0');
        }
        if (n > 0) {
          if (used->size() < n) used->resize(n);
          (*used)[n - 1] = true;
        }
      }
      continue;
    }
    out += c;
  }
  return out;
}

Statement& Statement::set(int index, std::string value) {
  if (index < 1) return *this;
  if (params_.size() < static_cast<std::size_t>(index))
    params_.resize(static_cast<std::size_t>(index));
  params_[static_cast<std::size_t>(index) - 1] = std::move(value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  return set(index, std::string(text));
}

Statement& Statement::bind(int index, double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return set(index, text);
}

HostResult<void> Statement::execute() {
  executed_ = true;
  std::vector<const char*> values;
  for (const std::optional<std::string>& p : params_) values.push_back(p ? p->c_str() : nullptr);
  result_.reset(PQexecPrepared(connection_, name_.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = result_ ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return postgres_error(result_.get(), connection_);
  }
  const char* tuples = PQcmdTuples(result_.get());
  changes_ = tuples[0] != '\0' ? std::strtoll(tuples, nullptr, 10) : 0;
  return {};
}

HostResult<bool> Statement::step() {
  if (!executed_) UPDRAFT_TRY(execute());
  ++row_;
  return row_ < PQntuples(result_.get());
}

HostResult<void> Statement::run() {
  if (!executed_) UPDRAFT_TRY(execute());
  return {};
}

HostResult<Connection> Connection::open(const std::string& conninfo) {
  Connection connection;
  connection.connection_.reset(PQconnectdb(conninfo.c_str()));
  if (!connection.connection_) return Error(ErrorCode::kStoreIo, "libpq: out of memory");
  if (PQstatus(connection.connection_.get()) != CONNECTION_OK) {
    std::string reason = PQerrorMessage(connection.connection_.get());
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    return Error(ErrorCode::kStoreIo, "cannot connect to PostgreSQL: " + reason);
  }
  // Warnings (NOTICE) are not for the server's log.
  PQsetNoticeProcessor(
      connection.connection_.get(), [](void*, const char*) {}, nullptr);
  return connection;
}

HostResult<void> Connection::exec(std::string_view sql) {
  const std::string text(sql);
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(connection_.get(), text.c_str()),
                                                        PQclear);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return postgres_error(result.get(), connection_.get());
  }
  return {};
}

HostResult<Statement> Connection::prepare(const std::string& sql) {
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    std::string name = std::to_string(prepared_.size() + 1);
    name.insert(0, 1, 's');  // (not "s" + ...: GCC 12's -Wrestrict misfires on it at -O3)
    std::vector<bool> used;
    const std::string text = numbered_parameters(sql, &used);
    // The store's filters number their parameters once for all combinations (?6
    // may come without ?1); PostgreSQL cannot infer the type of one the text never
    // uses, so those are declared text. The others it infers from their use.
    std::vector<Oid> types(used.size(), 0);
    for (std::size_t i = 0; i < used.size(); ++i) {
      if (!used[i]) types[i] = 25;  // TEXTOID
    }
    std::unique_ptr<PGresult, void (*)(PGresult*)> result(
        PQprepare(connection_.get(), name.c_str(), text.c_str(), static_cast<int>(types.size()),
                  types.data()),
        PQclear);
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return postgres_error(result.get(), connection_.get());
    }
    found = prepared_.emplace(sql, Prepared{std::move(name), used.size()}).first;
  }
  return Statement(connection_.get(), found->second.name, found->second.param_count);
}

}  // namespace updraft::server::postgres
