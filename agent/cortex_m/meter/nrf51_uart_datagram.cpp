#include "agent/cortex_m/meter/nrf51_uart_datagram.h"

#include "agent/cortex_m/meter/nrf51_registers.h"
#include "agent/cortex_m/meter/nrf51_timer.h"

namespace updraft::meter {
namespace {

constexpr std::uint32_t kUart0 = 0x40002000;
constexpr std::uint32_t kTasksStartRx = 0x000;
constexpr std::uint32_t kTasksStartTx = 0x008;
constexpr std::uint32_t kEventsRxReady = 0x108;
constexpr std::uint32_t kEventsTxReady = 0x11C;
constexpr std::uint32_t kEnable = 0x500;
constexpr std::uint32_t kPinSelectTxd = 0x50C;
constexpr std::uint32_t kPinSelectRxd = 0x514;
constexpr std::uint32_t kRxd = 0x518;
constexpr std::uint32_t kTxd = 0x51C;
constexpr std::uint32_t kBaudRate = 0x524;

constexpr std::uint32_t kEnableUart = 4;
constexpr std::uint32_t kBaud115200 = 0x01D7E000;
constexpr std::uint32_t kTxPin = 24;  // the micro:bit's UART pins
constexpr std::uint32_t kRxPin = 25;
constexpr std::uint32_t kByteTimeoutMicros = 100'000;

bool put_byte(std::byte b) {
  reg(kUart0, kEventsTxReady) = 0;
  reg(kUart0, kTxd) = std::to_integer<std::uint32_t>(b);
  const std::uint32_t start = Nrf51Timer::microseconds();
  while (reg(kUart0, kEventsTxReady) == 0) {
    if (Nrf51Timer::microseconds() - start > kByteTimeoutMicros) return false;
  }
  return true;
}

bool get_byte(std::byte& b) {
  if (reg(kUart0, kEventsRxReady) == 0) return false;
  // Clear the event before reading: RXD then raises it again if more bytes wait.
  reg(kUart0, kEventsRxReady) = 0;
  b = static_cast<std::byte>(reg(kUart0, kRxd) & 0xFF);
  return true;
}

}  // namespace

Nrf51UartDatagram::Nrf51UartDatagram() {
  Nrf51Timer::start();
  reg(kUart0, kPinSelectTxd) = kTxPin;
  reg(kUart0, kPinSelectRxd) = kRxPin;
  reg(kUart0, kBaudRate) = kBaud115200;
  reg(kUart0, kEnable) = kEnableUart;
  reg(kUart0, kTasksStartTx) = 1;
  reg(kUart0, kTasksStartRx) = 1;
}

Result<void> Nrf51UartDatagram::send(ByteView datagram) {
  bool ok = true;
  agent::link::slip_encode_to(datagram, [&ok](ByteView run) {
    for (std::byte b : run) ok = ok && put_byte(b);
  });
  if (!ok) return ErrorCode::kTransportFailed;
  return {};
}

Result<std::size_t> Nrf51UartDatagram::receive(MutableByteView out, std::uint32_t timeout_ms) {
  if (out.data() != frame_buffer_.data() || out.size() != frame_buffer_.size()) {
    frame_buffer_ = out;
    decoder_ = agent::link::SlipDecoder(out);
  }
  const std::uint32_t start = Nrf51Timer::microseconds();
  const std::uint32_t limit = timeout_ms < 4'000'000 ? timeout_ms * 1000 : 4'000'000'000u;
  while (true) {
    std::byte b;
    if (get_byte(b)) {
      ByteView input(&b, 1);
      const Result<ByteView> frame = decoder_.next(input);
      if (!frame.ok()) {
        ++malformed_frames_;
      } else if (!frame->empty()) {
        // The decoder fills its buffer from the start: the frame is out's prefix.
        return frame->size();
      }
      continue;
    }
    if (Nrf51Timer::microseconds() - start >= limit) return ErrorCode::kTransportTimeout;
  }
}

}  // namespace updraft::meter
