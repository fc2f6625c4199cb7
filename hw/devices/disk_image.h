#pragma once
// The host file behind a block device: created at the configured size if missing, read and
// written in place (writes reach the host file at once; flush() and close() fsync it). The file
// is mapped into memory, so a sector costs a copy and no system call (pread/pwrite where it
// cannot be mapped).
#include <cstdint>
#include <string>

namespace hw::devices {

class DiskImage {
 public:
  DiskImage() = default;
  ~DiskImage();
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  // Opens (or creates) `path` of exactly `size` bytes. Returns "" or why it cannot: the file
  // cannot be opened or created, or an existing file has another size.
  std::string open(const std::string& path, std::uint64_t size);
  // A zeroed image in an unlinked temporary file: nothing is left behind after the run.
  std::string open_anonymous(std::uint64_t size);
  bool is_open() const { return fd_ >= 0; }
  std::uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  bool created() const { return created_; }

  // Whole-range reads and writes; false (with errno's text in last_error()) on a host error.
  bool read(std::uint64_t offset, std::uint8_t* data, std::uint64_t n);
  bool write(std::uint64_t offset, const std::uint8_t* data, std::uint64_t n);
  bool flush();
  void close();
  const std::string& last_error() const { return error_; }

 private:
  void map();
  bool mapped(std::uint64_t offset, std::uint64_t n) const;  // the range is in the mapping
  int fd_ = -1;
  std::uint8_t* map_ = nullptr;
  std::uint64_t size_ = 0;
  std::string path_, error_;
  bool created_ = false;
};

}  // namespace hw::devices
