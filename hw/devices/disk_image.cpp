#include "hw/devices/disk_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace hw::devices {

DiskImage::~DiskImage() {
  close();
}

std::string DiskImage::open(const std::string& path, std::uint64_t size) {
  close();
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && static_cast<std::uint64_t>(st.st_size) != size)
    return fmt::format("{} is {} bytes, not the configured {}", path, st.st_size, size);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return fmt::format("{}: {}", path, std::strerror(errno));
  if (!exists && ::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    std::string why = fmt::format("{}: cannot size it: {}", path, std::strerror(errno));
    close();
    return why;
  }
  created_ = !exists;
  size_ = size;
  path_ = path;
  return {};
}

std::string DiskImage::open_anonymous(std::uint64_t size) {
  close();
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/iocosim-disk-XXXXXX";
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) return fmt::format("{}: {}", tmpl, std::strerror(errno));
  ::unlink(tmpl.c_str());
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    std::string why = fmt::format("temporary disk image: {}", std::strerror(errno));
    close();
    return why;
  }
  created_ = true;
  size_ = size;
  path_ = "(temporary)";
  return {};
}

bool DiskImage::read(std::uint64_t offset, std::uint8_t* data, std::uint64_t n) {
  while (n > 0) {
    ssize_t got = ::pread(fd_, data, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      error_ = got == 0 ? "unexpected end of file" : std::strerror(errno);
      return false;
    }
    data += got;
    offset += static_cast<std::uint64_t>(got);
    n -= static_cast<std::uint64_t>(got);
  }
  return true;
}

bool DiskImage::write(std::uint64_t offset, const std::uint8_t* data, std::uint64_t n) {
  while (n > 0) {
    ssize_t put = ::pwrite(fd_, data, n, static_cast<off_t>(offset));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      error_ = put == 0 ? "wrote nothing" : std::strerror(errno);
      return false;
    }
    data += put;
    offset += static_cast<std::uint64_t>(put);
    n -= static_cast<std::uint64_t>(put);
  }
  return true;
}

bool DiskImage::flush() {
  if (fd_ < 0) return true;
  if (::fsync(fd_) != 0) {
    error_ = std::strerror(errno);
    return false;
  }
  return true;
}

void DiskImage::close() {
  if (fd_ < 0) return;
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace hw::devices
