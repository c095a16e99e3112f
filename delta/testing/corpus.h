// Where the tests find the corpus of real firmware releases: the folder named by
// the environment variable UPDRAFT_CORPUS (holding public/, public-arm/, ...),
// else ../shared/corpus beside the repository, where the workspace keeps it.
// Without one, tests that need it are skipped (GTEST_SKIP), never passed or
// failed; README.md says where corpora come from. Host only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace updraft::test_images {

// The folder of corpus set `set` ("public": ESP8266, "public-arm": Cortex-M) if
// it holds a pairs.tsv; nullopt otherwise.
std::optional<std::string> corpus_dir(std::string_view set = "public");

// The corpus sets every corpus test and bench covers.
inline constexpr std::string_view kCorpusSets[] = {"public", "public-arm"};

// A file of the source tree, e.g. golden test data: "delta/patch/testdata/v1-old.bin".
std::string source_path(std::string_view relative);

// Why corpus_dir() found nothing, for the skip message.
std::string corpus_missing_reason(std::string_view set = "public");

}  // namespace updraft::test_images
