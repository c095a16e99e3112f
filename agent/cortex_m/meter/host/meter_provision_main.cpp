// updraft-meter-provision: the water meter's factory station (docs/agent-mcu.md).
// Writes the two things a meter leaves the factory with:
//   --flash: the emulated external NOR (meter_map.h's 192 KiB file): the factory
//            image in slot A, a boot state that names it the confirmed slot, an
//            empty journal; written with the agent's own code (FileFlash, NOR rules;
//            BootLogic::provision), so the firmware reads exactly what it writes;
//   --page:  the provisioning page (provisioning.h) QEMU loads into the nRF51's
//            flash: device id, the CoAP MAC key (hex SHA-256 of the device secret),
//            product, hardware and the trusted root metadata.
// Host only.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "agent/boot_logic.h"
#include "agent/cortex_m/meter/meter_map.h"
#include "agent/cortex_m/meter/provisioning.h"
#include "agent/posix/file_flash.h"
#include "core/host/file.h"
#include "core/host/hex.h"
#include "crypto/sha256.h"

namespace {

using namespace updraft;

struct Options {
  std::string flash, page, image, version, device_id, secret, secret_file, product, hardware, root;
  std::uint32_t security_counter = 0;
};

HostResult<void> write_flash(const Options& o) {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> image, read_file(o.image));
  const agent::FlashGeometry g = meter::kFlashGeometry;
  UPDRAFT_TRY_ASSIGN(const agent::FlashLayout layout,
                     agent::plan_layout(g, meter::kImageCapacity, meter::kStagingCapacity));
  if (image.empty() || image.size() > layout.slot_size) {
    return Error(ErrorCode::kAgentImageTooLarge, o.image + " has " + std::to_string(image.size()) +
                                                     " bytes; a slot holds " +
                                                     std::to_string(layout.slot_size));
  }
  // A fresh file is fully erased: no old journal, no old boot state.
  ::unlink(o.flash.c_str());
  UPDRAFT_TRY_ASSIGN(std::unique_ptr<agent::FileFlash> flash, agent::FileFlash::open(o.flash, g));
  std::vector<std::byte> padded = image;
  padded.resize((image.size() + g.write_align - 1) / g.write_align * g.write_align, g.erased_value);
  if (auto r = flash->write(layout.slot_offset[0], padded); !r.ok())
    return Error(r.error(), "writing the image into slot A");
  agent::SlotInfo info;
  info.valid = true;
  info.size = static_cast<std::uint32_t>(image.size());
  info.hash = Sha256::digest(image);
  info.security_counter = o.security_counter;
  agent::set_version(info, o.version.c_str());
  agent::BootLogic boot(*flash, layout);
  if (auto r = boot.provision(0, info); !r.ok()) return Error(r.error(), "writing the boot state");
  std::printf(
      "%s: %u B: slot A %u B at %u (image %zu B, sha256 %s), slot B at %u, staging %u B at %u,"
      " boot state at %u, journal at %u\n",
      o.flash.c_str(), g.size, layout.slot_size, layout.slot_offset[0], image.size(),
      to_hex(info.hash).c_str(), layout.slot_offset[1], layout.staging_size, layout.staging_offset,
      layout.boot_state_offset, layout.journal_offset);
  return {};
}

HostResult<void> write_page(const Options& o) {
  std::string secret = o.secret;
  if (!o.secret_file.empty()) {
    UPDRAFT_TRY_ASSIGN(std::vector<std::byte> bytes, read_file(o.secret_file));
    secret.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  }
  // The CoAP MAC key is the hex SHA-256 of the secret, as text (docs/formats/coap.md).
  const std::string key = to_hex(Sha256::digest(as_bytes_view(secret.data(), secret.size())));
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> root, read_file(o.root));
  meter::Provisioning p;
  p.device_id = o.device_id;
  p.mac_key = as_bytes_view(key.data(), key.size());
  p.product = o.product;
  p.hardware = o.hardware;
  p.trusted_root = root;
  std::vector<std::byte> page(meter::kProvisioningSize, std::byte{0xFF});
  Result<std::size_t> n = meter::encode_provisioning(p, page);
  if (!n.ok()) return Error(n.error(), "a field is empty or too long for the provisioning page");
  UPDRAFT_TRY(write_file_atomic(o.page, page));
  std::printf(
      "%s: provisioning page, %zu of %u B (device %s, product %s, hardware %s, root %zu B)\n",
      o.page.c_str(), *n, meter::kProvisioningSize, o.device_id.c_str(), o.product.c_str(),
      o.hardware.c_str(), root.size());
  return {};
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{
      "updraft-meter-provision: the water meter's factory station. Writes the emulated NOR\n"
      "flash (factory image in slot A, boot state, empty journal) and the provisioning page\n"
      "QEMU loads at 0x3f000 (device id, CoAP key, product, hardware, trusted root)."};
  app.add_option("--flash", o.flash, "the emulated flash file to (re)create")->required();
  app.add_option("--image", o.image, "the factory image for slot A")->required();
  app.add_option("--version", o.version, "its version, e.g. 1.0.0")->required();
  app.add_option("--security-counter", o.security_counter, "its anti-rollback counter")
      ->capture_default_str();
  app.add_option("--page", o.page, "the provisioning page file to write")->required();
  app.add_option("--device-id", o.device_id, "the device id updraftd knows")->required();
  auto* secret = app.add_option("--secret", o.secret, "the device secret");
  auto* secret_file = app.add_option("--secret-file", o.secret_file, "a file holding it");
  secret->excludes(secret_file);
  app.add_option("--product", o.product, "the product name")->required();
  app.add_option("--hardware", o.hardware, "the hardware id")->required();
  app.add_option("--root", o.root, "the trusted root metadata (GET /api/v1/trust/root)")
      ->required();
  CLI11_PARSE(app, argc, argv);
  if (o.secret.empty() && o.secret_file.empty()) {
    std::fprintf(stderr, "updraft-meter-provision: --secret or --secret-file is required\n");
    return 2;
  }
  for (auto step : {write_flash, write_page}) {
    if (HostResult<void> r = step(o); !r.ok()) {
      std::fprintf(stderr, "updraft-meter-provision: %s\n", r.error().to_string().c_str());
      return 1;
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "updraft-meter-provision: %s\n", e.what());
  return 1;
}
