// updraft-modem: plays the NB-IoT modem of an emulated device (QEMU) whose only
// link is a UART. SLIP frames on the UART become UDP datagrams to updraftd, over a
// link that can be made slow and lossy; prints a one-line JSON summary at the end.
//
//   updraft-modem --uart-port-file uart.port --server 127.0.0.1:5683
//                 --loss 5 --rate 5000 --stats modem.json
//   qemu-system-arm -M microbit ... -serial tcp:127.0.0.1:$(cat uart.port)
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>

#include "sim/modem/modem.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int signal) { g_stop = signal; }

}  // namespace

int main(int argc, char** argv) try {
  using namespace updraft;
  sim::ModemOptions o;
  sim::DtlsConfig dtls;
  double delay_ms = 0;
  double exit_after = 0;
  CLI::App app{
      "updraft-modem: an NB-IoT modem stand-in. Carries each SLIP frame (RFC 1055) from an\n"
      "emulated device's UART as one UDP datagram to updraftd (optionally inside DTLS 1.2\n"
      "with a pre-shared key) and each answer back, over a link that can lose, corrupt,\n"
      "delay and throttle datagrams. QEMU connects as a client: -serial tcp:HOST:PORT.\n"
      "Prints a one-line JSON summary of the counters at exit (SIGTERM, SIGINT)."};
  app.add_option("--uart-listen", o.uart_listen,
                 "where the device's UART connects (TCP host:port; port 0 picks one)")
      ->capture_default_str();
  app.add_option("--uart-port-file", o.uart_port_file,
                 "write the UART port here once listening (start QEMU after it appears)");
  app.add_option("--server", o.server, "updraftd's CoAP (or CoAPS) listener, host:port")
      ->required();
  auto* identity = app.add_option("--dtls-identity", dtls.identity,
                                  "DTLS PSK identity (the device id); turns DTLS on");
  auto* key = app.add_option("--dtls-key", dtls.key,
                             "DTLS pre-shared key, its bytes as given (updraftd: the 64 hex "
                             "characters of SHA-256 of the device secret)");
  identity->needs(key);
  key->needs(identity);
  app.add_option("--dtls-ciphers", dtls.ciphers, "OpenSSL cipher list for DTLS")
      ->capture_default_str();
  app.add_option("--loss", o.impairments.loss_percent,
                 "percent of datagrams lost on the air, each direction independently")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--corrupt", o.impairments.corrupt_percent,
                 "percent of datagrams that arrive with one random bit flipped")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--delay", delay_ms, "one-way latency of the air, milliseconds")
      ->check(CLI::Range(0.0, 600'000.0));
  app.add_option("--rate", o.impairments.rate_bps,
                 "bits per second on the air, each direction (e.g. 5000); 0: unlimited")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the impairments; the same seed, the same run")
      ->capture_default_str();
  app.add_option("--stats", o.stats_file,
                 "keep the JSON counters in this file (every second and at exit)");
  app.add_option("--exit-after", exit_after, "stop after this many seconds (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.footer(
      "Counters: air bytes are UDP payloads as they go on or come off the air, lost ones\n"
      "included (with DTLS: whole records, handshakes and alerts); UART bytes are SLIP bytes.");
  CLI11_PARSE(app, argc, argv);
  o.impairments.delay = std::chrono::milliseconds(static_cast<std::int64_t>(delay_ms));
  if (!dtls.identity.empty() || !dtls.key.empty()) o.dtls = dtls;

  // The signals stay blocked except inside the modem's wait, so one that comes
  // between two waits is not lost: it ends the next wait at once.
  sigset_t stop_signals;
  sigset_t wait_mask;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, &wait_mask);
  sigdelset(&wait_mask, SIGINT);
  sigdelset(&wait_mask, SIGTERM);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  HostResult<std::unique_ptr<sim::Modem>> opened = sim::Modem::open(o);
  if (!opened.ok()) {
    std::fprintf(stderr, "updraft-modem: %s\n", opened.error().message.c_str());
    return 2;
  }
  sim::Modem& modem = **opened;
  std::fprintf(stderr, "updraft-modem: UART on port %u, server %s%s\n", modem.uart_port(),
               o.server.c_str(), o.dtls ? " (DTLS)" : "");

  const auto deadline =
      exit_after > 0
          ? sim::Modem::Clock::now() + std::chrono::duration_cast<sim::Modem::Clock::duration>(
                                           std::chrono::duration<double>(exit_after))
          : sim::Modem::Clock::time_point::max();
  const HostResult<void> ran = modem.run(g_stop, wait_mask, deadline);
  if (g_stop != 0)
    std::fprintf(stderr, "updraft-modem: %s, stopping\n", g_stop == SIGINT ? "SIGINT" : "SIGTERM");
  std::printf("%s\n", modem.stats_json().c_str());
  std::fflush(stdout);
  if (!ran.ok()) {
    std::fprintf(stderr, "updraft-modem: %s\n", ran.error().message.c_str());
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "updraft-modem: %s\n", e.what());
  return 1;
}
