// Checksums: the sha256 of a file, and the check against data.binance.vision's sibling
// "<file>.CHECKSUM" ("<64 hex digits>  <name>").
#include <arrow/io/interfaces.h>
#include <arrow/util/string.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "tickforge/binance/binance.h"
#include "tickforge/util/files.h"

namespace tickforge::binance {

Result<std::string> Sha256File(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::UnknownError(path, ": cannot start sha256");
  }
  std::vector<char> buffer(1 << 20);
  while (true) {
    auto got = file->Read(static_cast<int64_t>(buffer.size()), buffer.data());
    if (!got.ok()) return WithPath(got.status(), path);
    if (*got == 0) break;
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(*got));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

Status VerifyChecksum(const std::string& path) {
  const std::string checksum_path = path + ".CHECKSUM";
  std::error_code ec;
  if (!std::filesystem::exists(checksum_path, ec)) return Status::OK();
  std::ifstream in(checksum_path);
  std::string expected;
  in >> expected;
  expected = arrow::internal::AsciiToLower(expected);
  if (expected.size() != 64 ||
      !std::all_of(expected.begin(), expected.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
    return InputError(checksum_path, 0, "not a sha256 CHECKSUM file (expected '<64 hex digits>  <name>')");
  }
  ARROW_ASSIGN_OR_RAISE(auto actual, Sha256File(path));
  if (actual != expected) {
    return Status::Invalid(path, ": sha256 mismatch: file has ", actual, ", ",
                           std::filesystem::path(checksum_path).filename().string(), " says ", expected);
  }
  return Status::OK();
}

}  // namespace tickforge::binance
