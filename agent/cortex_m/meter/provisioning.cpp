#include "agent/cortex_m/meter/provisioning.h"

#include <algorithm>
#include <array>

#include "core/codec.h"
#include "core/crc32.h"
#include "manifest/byte_reader.h"

namespace updraft::meter {
namespace {

constexpr std::array<std::byte, 4> kMagic{std::byte{'U'}, std::byte{'P'}, std::byte{'D'},
                                          std::byte{'V'}};
constexpr std::uint8_t kFormat = 1;

std::string_view as_text(ByteView bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A text of 1..max bytes (0..max when `may_be_empty`): its length, its bytes, a NUL.
Result<ByteView> text(manifest::ByteReader& reader, std::size_t max, bool may_be_empty = false) {
  UPDRAFT_TRY_ASSIGN(const std::uint8_t length, reader.u8());
  if (length > max || (length == 0 && !may_be_empty)) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(const ByteView bytes, reader.bytes(length));
  UPDRAFT_TRY_ASSIGN(const std::uint8_t nul, reader.u8());
  if (nul != 0 || std::find(bytes.begin(), bytes.end(), std::byte{0}) != bytes.end())
    return ErrorCode::kManifestMalformed;
  return bytes;
}

}  // namespace

Result<void> parse_provisioning(ByteView page, Provisioning& out) {
  manifest::ByteReader reader(page);
  UPDRAFT_TRY_ASSIGN(const ByteView magic, reader.bytes(kMagic.size()));
  if (!std::equal(magic.begin(), magic.end(), kMagic.begin())) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(const std::uint8_t format, reader.u8());
  if (format != kFormat) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(const ByteView id, text(reader, kMaxProvisioningText));
  UPDRAFT_TRY_ASSIGN(const ByteView key, text(reader, kMaxProvisioningText, true));
  UPDRAFT_TRY_ASSIGN(const ByteView product, text(reader, kMaxProvisioningText));
  UPDRAFT_TRY_ASSIGN(const ByteView hardware, text(reader, kMaxProvisioningText));
  UPDRAFT_TRY_ASSIGN(const std::uint16_t root_length, reader.u16());
  if (root_length == 0 || root_length > kMaxTrustedRoot) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(const ByteView root, reader.bytes(root_length));
  const std::size_t covered = page.size() - reader.remaining();
  UPDRAFT_TRY_ASSIGN(const std::uint32_t crc, reader.u32());
  if (crc != crc32(page.first(covered))) return ErrorCode::kManifestMalformed;
  out.device_id = as_text(id);
  out.mac_key = key;
  out.product = as_text(product);
  out.hardware = as_text(hardware);
  out.trusted_root = root;
  return {};
}

Result<std::size_t> encode_provisioning(const Provisioning& in, MutableByteView out) {
  // Texts as parse_provisioning() takes them: within bounds, and no NUL inside.
  const auto bad = [](ByteView text, bool may_be_empty = false) {
    return text.size() > kMaxProvisioningText || (text.empty() && !may_be_empty) ||
           std::find(text.begin(), text.end(), std::byte{0}) != text.end();
  };
  const auto view = [](std::string_view text) { return as_bytes_view(text.data(), text.size()); };
  if (bad(view(in.device_id)) || bad(in.mac_key, true) || bad(view(in.product)) ||
      bad(view(in.hardware)) || in.trusted_root.empty() ||
      in.trusted_root.size() > kMaxTrustedRoot) {
    return ErrorCode::kInvalidArgument;
  }
  const std::size_t size = kMagic.size() + 1 + 2 + in.device_id.size() + 2 + in.mac_key.size() + 2 +
                           in.product.size() + 2 + in.hardware.size() + 2 + in.trusted_root.size() +
                           4;
  if (size > out.size()) return ErrorCode::kInvalidArgument;
  std::size_t at = 0;
  const auto put = [&](ByteView bytes) {
    std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    at += bytes.size();
  };
  const auto put_text = [&](ByteView bytes) {
    out[at++] = static_cast<std::byte>(bytes.size());
    put(bytes);
    out[at++] = std::byte{0};
  };
  put(kMagic);
  out[at++] = std::byte{kFormat};
  put_text(view(in.device_id));
  put_text(in.mac_key);
  put_text(view(in.product));
  put_text(view(in.hardware));
  store_le16(out.data() + at, static_cast<std::uint16_t>(in.trusted_root.size()));
  at += 2;
  put(in.trusted_root);
  store_le32(out.data() + at, crc32(out.first(at)));
  return at + 4;
}

}  // namespace updraft::meter
