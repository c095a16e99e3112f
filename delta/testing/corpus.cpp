#include "delta/testing/corpus.h"

#include <cstdlib>
#include <filesystem>

namespace updraft::test_images {
namespace {

std::string corpus_root() {
  const char* env = std::getenv("UPDRAFT_CORPUS");
  if (env != nullptr && *env != '\0') return env;
  return std::string(UPDRAFT_SOURCE_DIR) + "/../shared/corpus";
}

}  // namespace

std::string source_path(std::string_view relative) {
  return std::string(UPDRAFT_SOURCE_DIR) + "/" + std::string(relative);
}

std::optional<std::string> corpus_dir(std::string_view set) {
  const std::filesystem::path dir = std::filesystem::path(corpus_root()) / std::string(set);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "pairs.tsv", ec)) return std::nullopt;
  return dir.string();
}

std::string corpus_missing_reason(std::string_view set) {
  return "no corpus at " + corpus_root() + "/" + std::string(set) +
         " (set UPDRAFT_CORPUS to the folder holding " + std::string(set) + "/pairs.tsv)";
}

}  // namespace updraft::test_images
