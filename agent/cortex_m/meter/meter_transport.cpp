#include "agent/cortex_m/meter/meter_transport.h"

#include "agent/cortex_m/semihosting.h"

namespace updraft::meter {
namespace {

using cortex_m::Line;

void print_error(Line& line, ErrorCode error) {
  // The number only: error_name()'s table of names and texts would cost 7 KB of
  // flash. The numbers are stable (core/error_code.h), and the harness names them.
  line << "error " << std::uint64_t{error_number(error)};
}

}  // namespace

Result<void> MeterTransport::check_in(const agent::DeviceStatus& status,
                                      agent::CheckInAnswer& answer) {
  const Result<void> r = coap_.check_in(status, answer);
  Line line;
  line << "meter: check-in: ";
  if (!r.ok()) {
    line << "failed: ";
    print_error(line, r.error());
  } else if (!answer.update_available) {
    line << "no update, next check-in in " << std::uint64_t{answer.poll_seconds} << " s";
  } else {
    line << "offered " << (answer.kind == agent::ArtifactKind::kPatch ? "patch" : "full image")
         << " of " << std::uint64_t{answer.artifact_size} << " B, deployment "
         << std::uint64_t{coap_.deployment()} << ", manifest "
         << std::uint64_t{answer.manifest_size} << " B";
  }
  line.print();
  return r;
}

Result<std::size_t> MeterTransport::fetch(const char* artifact, std::uint32_t offset,
                                          MutableByteView out) {
  const std::uint32_t block = coap_.block_size();
  const bool first = !fetched_;
  fetched_ = true;
  if (first && offset > 0) {
    Line line;
    line << "meter: fetch: resume at offset " << std::uint64_t{offset};
    line.print();
  }
  const agent::CoapCounters before = coap_.counters();
  const Result<std::size_t> got = coap_.fetch(artifact, offset, out);
  const agent::CoapCounters& after = coap_.counters();
  block_bytes_sent_ += after.bytes_sent - before.bytes_sent;
  block_bytes_received_ += after.bytes_received - before.bytes_received;
  // A block goes over the air when the agent asks for its first bytes; the rest
  // of it comes from the client's buffer.
  if (offset % block == 0 || !got.ok()) {
    Line line;
    line << "meter: fetch: block " << std::uint64_t{offset / block};
    if (got.ok()) {
      ++blocks_;
      line << " ok";
    } else {
      line << " failed: ";
      print_error(line, got.error());
    }
    line.print();
  }
  return got;
}

Result<void> MeterTransport::report(const agent::Report& report) {
  const bool progress = report.phase == agent::Phase::kDownloading &&
                        report.progress_percent != 0 && report.error == 0;
  const Result<void> r = progress ? Result<void>{} : coap_.report(report);
  Line line;
  line << "meter: report: " << agent::phase_name(report.phase);
  if (report.phase == agent::Phase::kDownloading)
    line << " " << std::uint64_t{report.progress_percent} << " %";
  if (report.error != 0) line << ", error " << std::uint64_t{report.error};
  if (progress) line << " (kept on the meter)";
  if (!r.ok()) {
    line << " (not delivered: ";
    print_error(line, r.error());
    line << ")";
  }
  line.print();
  return r;
}

void MeterTransport::print_summary() const {
  const agent::CoapCounters& c = coap_.counters();
  Line line;
  line << "meter: link: " << std::uint64_t{c.requests} << " requests, "
       << std::uint64_t{c.retransmissions} << " retransmissions, " << std::uint64_t{c.timeouts}
       << " timeouts, " << std::uint64_t{c.bad_blocks} << " bad blocks; blocks "
       << std::uint64_t{blocks_} << ": up " << block_bytes_sent_ << " B, down "
       << block_bytes_received_ << " B; other: up " << c.bytes_sent - block_bytes_sent_
       << " B, down " << c.bytes_received - block_bytes_received_ << " B";
  line.print();
}

}  // namespace updraft::meter
