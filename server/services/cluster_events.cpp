#include "server/services/cluster_events.h"

#include <cstdio>

#include "server/services/credentials.h"

namespace updraft::server {

HostResult<std::unique_ptr<ClusterEvents>> ClusterEvents::start(const std::string& uri,
                                                                EventBus& bus) {
  std::unique_ptr<ClusterEvents> out(new ClusterEvents(bus));
  UPDRAFT_TRY_ASSIGN(out->origin_, random_secret());
  out->origin_.resize(16);
  UPDRAFT_TRY_ASSIGN(out->channel_, postgres::NotifyChannel::open(
                                        uri, kChannel, [self = out.get()](std::string_view p) {
                                          self->receive(p);
                                        }));
  out->sender_ = std::thread([self = out.get()] { self->send_loop(); });
  return out;
}

ClusterEvents::~ClusterEvents() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  sender_.join();
  channel_.reset();  // stops the listener before the bus may go
}

void ClusterEvents::forward(const std::string& type, const std::string& data) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    std::string line = type;
    line.append("\t").append(data);
    queue_.push_back(std::move(line));
  }
  wake_.notify_one();
}

std::uint64_t ClusterEvents::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void ClusterEvents::send_loop() {
  std::unique_lock lock(mutex_);
  bool warned = false;
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, with everything sent
    // One message: the origin line, then as many event lines as fit.
    std::string message = origin_;
    std::size_t lines = 0;
    while (!queue_.empty() &&
           message.size() + 1 + queue_.front().size() <= postgres::NotifyChannel::kMaxPayload) {
      message.append("\n").append(queue_.front());
      queue_.pop_front();
      ++lines;
    }
    if (lines == 0) {  // one event larger than a notification: it stays on this server
      queue_.pop_front();
      ++dropped_;
      continue;
    }
    lock.unlock();
    HostResult<void> sent = channel_->notify(message);
    lock.lock();
    if (!sent.ok()) {
      dropped_ += lines;
      if (!warned) {
        std::fprintf(stderr, "updraftd: events to other nodes: %s\n",
                     sent.error().to_string().c_str());
      }
    }
    warned = !sent.ok();
  }
}

void ClusterEvents::receive(std::string_view payload) {
  std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos || payload.substr(0, newline) == origin_) return;
  while (newline != std::string_view::npos) {
    const std::size_t start = newline + 1;
    newline = payload.find('\n', start);
    const std::string_view line = payload.substr(start, newline - start);
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;  // not ours: ignore
    bus_.deliver(std::string(line.substr(0, tab)), std::string(line.substr(tab + 1)));
  }
}

}  // namespace updraft::server
