#include "tickforge/features/image_io.h"

#include <fmt/format.h>
#include <png.h>

#include <algorithm>
#include <cmath>

#include "tickforge/util/io.h"

namespace tickforge::features {

Status WriteNpy(const std::filesystem::path& path, const float* data, const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t count = 1;
  for (int64_t d : shape) {
    dims += fmt::format("{}, ", d);
    count *= d;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  // Magic, version 1.0, header length; the header is padded so the data starts 64-byte aligned.
  const size_t prefix = 10;
  header.append(64 - (prefix + header.size() + 1) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<uint16_t>(header.size());
  out.push_back(static_cast<char>(len & 0xFF));
  out.push_back(static_cast<char>(len >> 8));
  out += header;
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  ARROW_RETURN_NOT_OK(file->stream()->Write(out.data(), static_cast<int64_t>(out.size())));
  ARROW_RETURN_NOT_OK(file->stream()->Write(data, count * static_cast<int64_t>(sizeof(float))));
  return file->Commit();
}

Status WriteHeatmapPng(const std::filesystem::path& path, const float* data, int planes, int rows, int cols) {
  constexpr int kGap = 8;
  const int width = planes * cols + (planes - 1) * kGap;
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * static_cast<size_t>(rows) * 3, 255);
  for (int p = 0; p < planes; ++p) {
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; ++x) {
        const float v = std::clamp(data[(static_cast<size_t>(p) * rows + y) * cols + x], -1.0f, 1.0f);
        // White at zero, fading to red for positive (ask) and blue for negative (bid) values.
        const auto fade = static_cast<uint8_t>(std::lround(255 * (1 - std::abs(v))));
        uint8_t* px = &pixels[(static_cast<size_t>(y) * width + static_cast<size_t>(p * (cols + kGap) + x)) * 3];
        px[0] = v > 0 ? 255 : fade;
        px[1] = fade;
        px[2] = v < 0 ? 255 : fade;
      }
    }
  }
  // Encode in memory, then write through AtomicFile: a reader never sees half a PNG.
  std::vector<uint8_t> encoded;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (png == nullptr || info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return Status::IOError(path.string(), ": encoding the PNG failed");
  }
  png_set_write_fn(
      png, &encoded,
      [](png_structp p, png_bytep bytes, png_size_t n) {
        auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
        out->insert(out->end(), bytes, bytes + n);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(rows), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < rows; ++y) png_write_row(png, &pixels[static_cast<size_t>(y) * width * 3]);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  ARROW_RETURN_NOT_OK(file->stream()->Write(encoded.data(), static_cast<int64_t>(encoded.size())));
  return file->Commit();
}

}  // namespace tickforge::features
