#include "agent/posix/udp_datagram.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace updraft::agent {

HostResult<std::unique_ptr<UdpDatagram>> UdpDatagram::open(const std::string& host,
                                                           std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return Error(ErrorCode::kTransportFailed, host + ": " + ::gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ::freeaddrinfo(found);
      return std::unique_ptr<UdpDatagram>(new UdpDatagram(fd));
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return Error(ErrorCode::kTransportFailed, "udp " + host + ":" + service + ": " + why);
}

UdpDatagram::~UdpDatagram() { ::close(fd_); }

Result<void> UdpDatagram::send(ByteView datagram) {
  // A refused or unreachable port shows up on a later call; a lost packet never
  // does. Either way the protocol above retries.
  if (::send(fd_, datagram.data(), datagram.size(), 0) < 0 && errno != ECONNREFUSED)
    return ErrorCode::kTransportFailed;
  return {};
}

Result<std::size_t> UdpDatagram::receive(MutableByteView out, std::uint32_t timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  while (true) {
    const int ready = ::poll(&p, 1, static_cast<int>(timeout_ms));
    if (ready == 0) return ErrorCode::kTransportTimeout;
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrorCode::kTransportFailed;
    }
    const ssize_t n = ::recv(fd_, out.data(), out.size(), MSG_TRUNC);
    if (n < 0) {
      // ICMP port unreachable from an earlier send: the server is not there now.
      if (errno == ECONNREFUSED) return ErrorCode::kTransportFailed;
      if (errno == EINTR) continue;
      return ErrorCode::kTransportFailed;
    }
    return std::min(static_cast<std::size_t>(n), out.size());
  }
}

}  // namespace updraft::agent
