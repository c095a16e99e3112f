#include "server/services/artifact_digests.h"

namespace updraft::server {

HostResult<LegacyDigests> ArtifactDigests::of(const std::string& path, const std::string& sha256) {
  // The key predates EnOS: DDI was the first to want these.
  const std::string key = "ddi.hashes." + sha256;
  if (HostResult<std::string> cached = store_.setting(key); cached.ok()) {
    const std::size_t space = cached->find(' ');
    if (space != std::string::npos)
      return LegacyDigests{cached->substr(0, space), cached->substr(space + 1)};
  }
  UPDRAFT_TRY_ASSIGN(LegacyDigests digests, legacy_digests_of_file(path));
  (void)store_.set_setting(key, digests.sha1 + " " + digests.md5);  // a cache: best effort
  return digests;
}

}  // namespace updraft::server
