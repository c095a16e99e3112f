#include "server/services/event_bus.h"

#include <algorithm>

namespace updraft::server {

void EventBus::subscribe(std::shared_ptr<EventSink> sink) {
  std::lock_guard lock(mutex_);
  sinks_.push_back(std::move(sink));
}

void EventBus::publish(const std::string& type, const std::string& data) {
  deliver(type, data);
  if (relay_ != nullptr) relay_->forward(type, data);
}

void EventBus::deliver(const std::string& type, const std::string& data) {
  std::lock_guard lock(mutex_);
  std::erase_if(sinks_,
                [&](const std::shared_ptr<EventSink>& sink) { return !sink->send(type, data); });
}

std::size_t EventBus::subscribers() const {
  std::lock_guard lock(mutex_);
  return sinks_.size();
}

}  // namespace updraft::server
