// The web console's files (index.html, style.css, the compiled JavaScript), built
// into the binary by console/CMakeLists.txt, so updraftd serves the console with
// no files beside it. Static data; safe from any thread.
#pragma once

#include <span>
#include <string_view>

namespace updraft::console {

struct ConsoleAsset {
  std::string_view name;          // served as /console/<name>
  std::string_view content_type;  // from the extension
  std::string_view etag;          // quoted, from the file's SHA-256
  std::span<const unsigned char> bytes;
};

std::span<const ConsoleAsset> console_assets();

}  // namespace updraft::console
