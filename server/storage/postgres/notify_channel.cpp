#include "server/storage/postgres/notify_channel.h"

#include <poll.h>

#include <chrono>
#include <cstdio>

namespace updraft::server::postgres {

HostResult<std::unique_ptr<NotifyChannel>> NotifyChannel::open(const std::string& uri,
                                                               const std::string& channel,
                                                               Receive receive) {
  std::unique_ptr<NotifyChannel> out(new NotifyChannel(uri, channel, std::move(receive)));
  UPDRAFT_TRY_ASSIGN(Connection sender, Connection::open(uri));
  out->sender_ = std::make_unique<Connection>(std::move(sender));
  UPDRAFT_TRY_ASSIGN(Connection listener, out->listen());
  out->listener_ = std::thread(
      [self = out.get(), l = std::move(listener)]() mutable { self->run(std::move(l)); });
  return out;
}

NotifyChannel::~NotifyChannel() {
  stop_ = true;
  if (listener_.joinable()) listener_.join();
}

HostResult<Connection> NotifyChannel::listen() {
  UPDRAFT_TRY_ASSIGN(Connection connection, Connection::open(uri_));
  UPDRAFT_TRY(connection.exec("LISTEN \"" + channel_ + "\""));
  return connection;
}

HostResult<void> NotifyChannel::notify(std::string_view payload) {
  if (payload.size() > kMaxPayload) {
    return Error(ErrorCode::kInvalidArgument, "notification of " + std::to_string(payload.size()) +
                                                  " bytes: at most " + std::to_string(kMaxPayload));
  }
  std::lock_guard lock(send_mutex_);
  HostResult<void> sent = Error(ErrorCode::kStoreIo, "no connection");
  for (int attempt = 0; attempt < 2; ++attempt) {  // the second on a new connection
    if (sender_ == nullptr) {
      HostResult<Connection> reopened = Connection::open(uri_);
      if (!reopened.ok()) return reopened.error();
      sender_ = std::make_unique<Connection>(std::move(*reopened));
    }
    HostResult<Statement> statement = sender_->prepare("SELECT pg_notify(?1, ?2)");
    sent = statement.ok() ? statement->bind(1, channel_).bind(2, payload).run()
                          : HostResult<void>(statement.error());
    if (sent.ok()) return sent;
    sender_.reset();
  }
  return sent;
}

void NotifyChannel::run(Connection listener) {
  std::unique_ptr<Connection> connection = std::make_unique<Connection>(std::move(listener));
  bool warned = false;
  while (!stop_.load()) {
    if (connection == nullptr) {
      HostResult<Connection> again = listen();
      if (!again.ok()) {
        if (!warned) {
          std::fprintf(stderr, "updraftd: events from other nodes: %s; retrying\n",
                       again.error().to_string().c_str());
          warned = true;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      connection = std::make_unique<Connection>(std::move(*again));
      warned = false;
    }
    // Wake at least every 200 ms to see stop_.
    PGconn* native = connection->native();
    pollfd fd{PQsocket(native), POLLIN, 0};
    if (fd.fd < 0 || ::poll(&fd, 1, 200) < 0 || (fd.revents != 0 && PQconsumeInput(native) == 0) ||
        PQstatus(native) != CONNECTION_OK) {
      connection.reset();  // lost: reconnect and LISTEN again
      continue;
    }
    while (PGnotify* note = PQnotifies(native)) {
      receive_(note->extra);
      PQfreemem(note);
    }
  }
}

}  // namespace updraft::server::postgres
