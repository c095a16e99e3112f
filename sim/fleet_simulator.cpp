#include "sim/fleet_simulator.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "agent/coap/coap_transport.h"
#include "agent/posix/http_transport.h"
#include "agent/posix/udp_datagram.h"
#include "agent/signed_manifest_checker.h"
#include "agent/testing/sim_device.h"
#include "core/host/hex.h"
#include "crypto/host/openssl_verifier.h"
#include "crypto/sha256.h"
#include "net/http/http_client.h"

namespace updraft::sim {
namespace {

using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;

// The link's faults on HTTP, on top of the real transport: dropped connections
// and a byte flipped in transit. (On CoAP, LossyDatagram does it per datagram.)
// It also keeps the device's last report, its artifact bytes and its check-in
// latencies for the summary.
class FaultyLink final : public agent::Transport {
 public:
  FaultyLink(agent::Transport& inner, agent::HttpTransport* http, std::uint64_t seed,
             double drop_rate, bool corrupt_once)
      : inner_(inner),
        http_(http),
        rng_(seed),
        drop_rate_(drop_rate),
        corrupt_pending_(corrupt_once) {}

  Result<void> check_in(const agent::DeviceStatus& status, agent::CheckInAnswer& answer) override {
    const auto start = std::chrono::steady_clock::now();
    Result<void> r = inner_.check_in(status, answer);
    if (r.ok()) {
      check_in_micros_.push_back(
          static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count()));
    }
    return r;
  }
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override {
    if (http_ != nullptr && drop_rate_ > 0 &&
        std::uniform_real_distribution<double>(0, 1)(rng_) < drop_rate_) {
      http_->close();
      return ErrorCode::kTransportFailed;
    }
    Result<std::size_t> got = inner_.fetch(artifact, offset, out);
    if (got.ok()) bytes_ += *got;
    if (http_ != nullptr && got.ok() && *got > 0 && corrupt_pending_) {
      corrupt_pending_ = false;
      out[rng_() % *got] ^= std::byte{0x20};
    }
    return got;
  }
  Result<void> report(const agent::Report& report) override {
    last_ = report;
    has_report_ = true;
    Result<void> sent = inner_.report(report);
    if (sent.ok()) {  // the server acknowledged it: it must be in the store
      acked_ = report;
      ++acked_count_;
    }
    return sent;
  }
  std::uint32_t block_size() const override { return inner_.block_size(); }

  bool has_report() const { return has_report_; }
  const agent::Report& last_report() const { return last_; }
  // The last report the server acknowledged, and how many it did.
  const agent::Report& acked_report() const { return acked_; }
  std::size_t acked_count() const { return acked_count_; }
  std::uint64_t bytes() const { return bytes_; }
  const std::vector<std::uint32_t>& check_in_micros() const { return check_in_micros_; }
  // Between cycles a battery device sleeps: no idle connection is kept.
  void sleep() {
    if (http_ != nullptr) http_->close();
  }

 private:
  agent::Transport& inner_;
  agent::HttpTransport* http_;  // null on CoAP
  std::mt19937_64 rng_;
  double drop_rate_;
  bool corrupt_pending_;
  agent::Report last_{};
  bool has_report_ = false;
  agent::Report acked_{};
  std::size_t acked_count_ = 0;
  std::uint64_t bytes_ = 0;
  std::vector<std::uint32_t> check_in_micros_;
};

// A lossy radio link for CoAP devices: each datagram, either way, is lost at
// `drop_rate`; the device's first datagram in after `corrupt_once` is set has a
// bit flipped (the block's CRC catches it).
class LossyDatagram final : public agent::Datagram {
 public:
  LossyDatagram(std::unique_ptr<agent::UdpDatagram> inner, std::uint64_t seed, double drop_rate,
                bool corrupt_once)
      : inner_(std::move(inner)),
        rng_(seed),
        drop_rate_(drop_rate),
        corrupt_pending_(corrupt_once) {}

  Result<void> send(ByteView datagram) override {
    if (lost()) return {};
    return inner_->send(datagram);
  }
  Result<std::size_t> receive(MutableByteView out, std::uint32_t timeout_ms) override {
    while (true) {
      Result<std::size_t> got = inner_->receive(out, timeout_ms);
      if (!got.ok() || !lost()) {
        if (got.ok() && *got > 8 && corrupt_pending_) {
          corrupt_pending_ = false;
          out[*got - 1 - rng_() % (*got / 2)] ^= std::byte{0x04};
        }
        return got;
      }
    }
  }

 private:
  bool lost() {
    return drop_rate_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < drop_rate_;
  }

  std::unique_ptr<agent::UdpDatagram> inner_;
  std::mt19937_64 rng_;
  double drop_rate_;
  bool corrupt_pending_;
};

// One simulated device and everything it owns.
struct Device {
  std::string id;
  std::string secret;
  std::string coap_key;  // hex SHA-256 of the secret: the CoAP MAC key
  std::unique_ptr<agent::HttpTransport> http;
  std::unique_ptr<LossyDatagram> udp;
  std::unique_ptr<agent::CoapTransport> coap;
  std::unique_ptr<FaultyLink> link;
  std::unique_ptr<agent::SignedManifestChecker> checker;
  std::unique_ptr<agent::SimDevice> sim;
  std::mt19937_64 rng;
  bool need_boot = true;
  bool bricked = false;
  bool rolled_back = false;
  bool low_battery = false;
  int charging_rounds = 0;
};

// Room for the image to grow by half in the next release, and (for devices that
// fetch in blocks) to stage a patch of up to half an image.
agent::FlashGeometry geometry_for(std::size_t image_size, std::uint32_t staging) {
  const std::uint32_t sector = 4096;
  const auto slot =
      static_cast<std::uint32_t>((image_size + image_size / 2 + sector - 1) / sector * sector);
  return agent::FlashGeometry{2 * slot + staging + 4 * sector, sector, 8, std::byte{0xFF}};
}

// Registers `count` devices through the admin API; an existing id is reused.
HostResult<void> register_devices(const FleetOptions& o, std::vector<Device>& devices) {
  HttpClient client(o.host, o.port);
  for (Device& d : devices) {
    const json body = {{"id", d.id},
                       {"product", o.product},
                       {"hardware", o.hardware},
                       {"secret", d.secret},
                       {"tags", json::array({"sim"})}};
    HostResult<net::http::ClientResponse> r =
        client.request(Method::kPost, "/api/v1/devices",
                       {{"authorization", "Bearer " + o.admin_token}}, body.dump());
    if (!r.ok()) return r.error();
    if (r->status != 201 && r->status != 409) {
      return Error(ErrorCode::kCheckInRejected,
                   "registering " + d.id + ": HTTP " + std::to_string(r->status) + " " + r->body);
    }
  }
  return {};
}

void step(Device& d, const FleetOptions& o) {
  if (d.bricked) return;
  // Devices keep real time: check-in answers expire minutes after the server signs them.
  d.sim->set_time(static_cast<std::uint64_t>(std::time(nullptr)));
  std::uniform_real_distribution<double> chance(0, 1);
  if (o.offline_rate > 0 && chance(d.rng) < o.offline_rate) return;
  if (o.power_cut_rate > 0 && chance(d.rng) < o.power_cut_rate) {
    d.sim->flash().cut_power_after(d.rng() % 400);
  }
  if (d.need_boot) {
    Result<agent::CycleResult> booted = d.sim->power_on();
    if (!booted.ok()) {
      if (booted.error() != ErrorCode::kFlashPowerLost) d.bricked = true;  // nothing bootable
      return;
    }
    d.need_boot = !d.sim->flash().powered() || booted->next == agent::CycleResult::Next::kReboot;
    if (booted->error == ErrorCode::kAgentTrialFailed) d.rolled_back = true;
    d.link->sleep();
    return;
  }
  if (d.low_battery && ++d.charging_rounds > 20) {
    d.low_battery = false;  // charged
    d.sim->agent().set_conditions(90, agent::NetworkType::kNbIot);
  }
  const agent::CycleResult cycle = d.sim->cycle();
  d.need_boot = !d.sim->flash().powered() || cycle.next == agent::CycleResult::Next::kReboot;
  d.link->sleep();
}

}  // namespace

HostResult<FleetSummary> run_fleet(const FleetOptions& o, const std::string& target_version,
                                   const std::function<bool(const FleetSummary&)>& done,
                                   const std::function<void(const FleetSummary&)>& on_round) {
  const auto start = std::chrono::steady_clock::now();
  // The root a device is provisioned with, from the server it will trust.
  HttpClient client(o.host, o.port);
  HostResult<net::http::ClientResponse> root = client.request(Method::kGet, "/api/v1/trust/root");
  if (!root.ok()) return root.error();
  if (root->status != 200)
    return Error(ErrorCode::kCheckInRejected,
                 "no root metadata: HTTP " + std::to_string(root->status));
  const std::vector<std::byte> root_bytes(
      reinterpret_cast<const std::byte*>(root->body.data()),
      reinterpret_cast<const std::byte*>(root->body.data()) + root->body.size());
  OpenSslVerifier verifier;

  std::vector<Device> devices(o.devices);
  std::mt19937_64 seeds(o.seed);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "%s%05zu", o.id_prefix.c_str(), i);
    devices[i].id = id;
    devices[i].secret = std::string("sim-secret-") + id + "-0123456789";
    devices[i].coap_key =
        to_hex(Sha256::digest(as_bytes_view(devices[i].secret.data(), devices[i].secret.size())));
    devices[i].rng.seed(seeds());
  }
  UPDRAFT_TRY(register_devices(o, devices));

  const bool coap = o.coap_port != 0;
  const auto staging =
      coap ? static_cast<std::uint32_t>((o.image.size() / 2 + 4095) / 4096 * 4096) : 0u;
  agent::SimDevice::Options sim_options;
  sim_options.geometry = geometry_for(o.image.size(), staging);
  sim_options.image_capacity = (sim_options.geometry.size - staging - 4 * 4096) / 2;
  sim_options.staging_capacity = staging;
  sim_options.config.policy.battery_floor_percent = 20;
  sim_options.config.backoff_seconds = 1;
  for (Device& d : devices) {
    const bool corrupt =
        o.corrupt_rate > 0 && std::uniform_real_distribution<double>(0, 1)(d.rng) < o.corrupt_rate;
    if (coap) {
      UPDRAFT_TRY_ASSIGN(std::unique_ptr<agent::UdpDatagram> socket,
                         agent::UdpDatagram::open(o.host, o.coap_port));
      d.udp = std::make_unique<LossyDatagram>(std::move(socket), d.rng(), o.drop_rate, corrupt);
      agent::CoapOptions c;
      c.device_id = d.id.c_str();
      c.mac_key = as_bytes_view(d.coap_key.data(), d.coap_key.size());
      c.block_size = o.coap_block;
      c.timeout_ms = 1000;
      d.coap =
          std::make_unique<agent::CoapTransport>(*d.udp, c, static_cast<std::uint16_t>(d.rng()));
      d.link = std::make_unique<FaultyLink>(*d.coap, nullptr, d.rng(), 0.0, false);
    } else {
      agent::HttpTransport::Options t;
      t.host = o.host;
      t.port = o.port;
      t.device_id = d.id;
      t.secret = d.secret;
      d.http = std::make_unique<agent::HttpTransport>(t);
      d.link = std::make_unique<FaultyLink>(*d.http, d.http.get(), d.rng(), o.drop_rate, corrupt);
    }
    d.checker =
        std::make_unique<agent::SignedManifestChecker>(root_bytes, verifier, o.product, o.hardware);
    if (auto r = d.checker->init(); !r.ok())
      return Error(r.error(), "the server's root metadata does not parse");
    d.sim = std::make_unique<agent::SimDevice>(sim_options, *d.link, *d.checker, o.image,
                                               o.version.c_str(), o.security_counter);
    d.low_battery = o.low_battery_rate > 0 &&
                    std::uniform_real_distribution<double>(0, 1)(d.rng) < o.low_battery_rate;
  }

  FleetSummary summary;
  const auto summarize = [&](int rounds) {
    FleetSummary s;
    s.rounds = rounds;
    s.devices = devices.size();
    for (Device& d : devices) {
      DeviceOutcome out;
      out.id = d.id;
      out.bricked = d.bricked;
      out.rolled_back = d.rolled_back;
      // HTTP: every body byte received (read-ahead included); CoAP: artifact bytes.
      out.bytes = d.http ? d.http->bytes_received() : d.link->bytes();
      if (d.link->has_report()) {
        out.last_phase = agent::phase_name(d.link->last_report().phase);
        out.last_error = d.link->last_report().error;
      }
      out.acked_reports = d.link->acked_count();
      if (out.acked_reports > 0) {
        out.acked_phase = agent::phase_name(d.link->acked_report().phase);
        out.acked_error = d.link->acked_report().error;
      }
      Result<agent::SlotInfo> running = d.sim->running_image();
      if (running.ok()) out.version = running->version.data();
      s.bytes_downloaded += out.bytes;
      if (out.bricked) ++s.bricked;
      if (out.version == target_version) {
        ++s.on_version;
        s.full_image_bytes += o.image.size();  // about what a full image would have cost
      } else {
        ++s.on_old;
        if (out.rolled_back) ++s.rolled_back;
        if (out.last_error != 0 && out.last_phase == "failure") ++s.failed_by_error[out.last_error];
      }
      s.outcomes.push_back(std::move(out));
    }
    s.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::vector<std::uint32_t> latencies;
    for (const Device& d : devices) {
      latencies.insert(latencies.end(), d.link->check_in_micros().begin(),
                       d.link->check_in_micros().end());
    }
    s.check_ins = latencies.size();
    if (!latencies.empty()) {
      const auto at = [&](double q) {
        const auto k = static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1));
        std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(k),
                         latencies.end());
        return latencies[k];
      };
      s.check_in_p50_us = at(0.50);
      s.check_in_p99_us = at(0.99);
    }
    return s;
  };

  const unsigned threads = std::max(1u, o.threads);
  for (int round = 1; round <= o.max_rounds; ++round) {
    if (round == 1) {
      for (Device& d : devices) {
        if (d.low_battery) {
          // First boot, then the battery reads low until it charges.
          d.sim->set_time(static_cast<std::uint64_t>(std::time(nullptr)));
          d.need_boot = !d.sim->power_on().ok();
          d.sim->agent().set_conditions(10, agent::NetworkType::kNbIot);
        }
      }
    }
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (std::size_t i = next.fetch_add(1); i < devices.size(); i = next.fetch_add(1))
          step(devices[i], o);
      });
    }
    for (std::thread& t : pool) t.join();
    summary = summarize(round);
    if (on_round) on_round(summary);
    if (done(summary)) break;
    std::this_thread::sleep_for(o.round_pause);
  }
  return summary;
}

std::string format_summary(const FleetSummary& s, const std::string& target_version) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "fleet: %zu devices, %d rounds, %.1f s\n", s.devices, s.rounds,
                static_cast<double>(s.elapsed.count()) / 1000.0);
  out += line;
  std::snprintf(line, sizeof line, "  updated to %-10s %6zu\n", target_version.c_str(),
                s.on_version);
  out += line;
  std::snprintf(line, sizeof line,
                "  still on old image   %6zu  (of which rolled back after a failed trial: %zu)\n",
                s.on_old, s.rolled_back);
  out += line;
  for (const auto& [error, n] : s.failed_by_error) {
    std::snprintf(line, sizeof line, "    failed with %3d %-28s %zu\n", error,
                  std::string(error_name(static_cast<ErrorCode>(error))).c_str(), n);
    out += line;
  }
  std::snprintf(line, sizeof line, "  bricked              %6zu\n", s.bricked);
  out += line;
  const double ratio = s.full_image_bytes > 0 ? static_cast<double>(s.bytes_downloaded) /
                                                    static_cast<double>(s.full_image_bytes)
                                              : 0;
  std::snprintf(line, sizeof line,
                "  downloaded %llu bytes = %.1f%% of the %llu bytes full images would have taken\n",
                static_cast<unsigned long long>(s.bytes_downloaded), 100.0 * ratio,
                static_cast<unsigned long long>(s.full_image_bytes));
  out += line;
  std::snprintf(line, sizeof line,
                "  check-ins %zu, latency p50 %.2f ms, p99 %.2f ms (as the devices saw it)\n",
                s.check_ins, s.check_in_p50_us / 1000.0, s.check_in_p99_us / 1000.0);
  out += line;
  return out;
}

}  // namespace updraft::sim
