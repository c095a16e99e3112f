// Messages between updraftd processes on one PostgreSQL database, by NOTIFY and
// LISTEN on one channel: notify() sends, and every open NotifyChannel on that
// channel, this one included, receives each message on its listener thread.
//
// Delivery is at most once: a message sent while a listener is reconnecting (its
// connection lost) is not seen there. The live events it carries are a
// convenience (a console refreshes, a device polls anyway), never state.
// Payloads are text of at most kMaxPayload bytes, PostgreSQL's limit.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/host/error.h"
#include "server/storage/postgres/connection.h"

namespace updraft::server::postgres {

class NotifyChannel {
 public:
  static constexpr std::size_t kMaxPayload = 7999;
  using Receive = std::function<void(std::string_view payload)>;

  // Connects twice (one connection listens, one sends) and starts listening;
  // kStoreIo when the database cannot be reached. `channel` is an identifier.
  static HostResult<std::unique_ptr<NotifyChannel>> open(const std::string& uri,
                                                         const std::string& channel,
                                                         Receive receive);
  ~NotifyChannel();  // stops the listener thread
  NotifyChannel(const NotifyChannel&) = delete;
  NotifyChannel& operator=(const NotifyChannel&) = delete;

  // Sends one message; thread-safe. kInvalidArgument when it is too long,
  // kStoreIo when the database cannot be reached (after one reconnect).
  HostResult<void> notify(std::string_view payload);

 private:
  NotifyChannel(std::string uri, std::string channel, Receive receive)
      : uri_(std::move(uri)), channel_(std::move(channel)), receive_(std::move(receive)) {}
  HostResult<Connection> listen();
  void run(Connection listener);

  std::string uri_;
  std::string channel_;
  Receive receive_;
  std::mutex send_mutex_;
  std::unique_ptr<Connection> sender_;  // under send_mutex_; reopened when lost
  std::atomic<bool> stop_{false};
  std::thread listener_;
};

}  // namespace updraft::server::postgres
