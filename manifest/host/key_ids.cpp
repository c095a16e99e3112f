#include "manifest/host/key_ids.h"

#include <algorithm>

#include "core/host/hex.h"

namespace updraft::manifest {

KeyId key_id_of(const PublicKey& key) { return key_id_of(ByteView(key.bytes)); }

std::string key_id_hex(const KeyId& id) { return to_hex(id); }

HostResult<KeyId> parse_key_id_hex(const std::string& text) {
  KeyId id{};
  if (text.size() != 2 * id.size()) {
    return Error(ErrorCode::kInvalidArgument, "key id \"" + text + "\" must be " +
                                                  std::to_string(2 * id.size()) + " hex digits");
  }
  Result<std::vector<std::byte>, Error> bytes = from_hex(text);
  if (!bytes.ok()) return Error(ErrorCode::kInvalidArgument, "key id \"" + text + "\" is not hex");
  std::copy(bytes->begin(), bytes->end(), id.begin());
  return id;
}

}  // namespace updraft::manifest
