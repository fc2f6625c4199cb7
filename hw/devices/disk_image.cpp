#include "hw/devices/disk_image.h"

#include <fcntl.h>
#include <sys/mman.h>
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
  map();
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
  map();
  return {};
}

void DiskImage::map() {
  // The image's blocks are reserved first: a store to a shared mapping of a hole on a full
  // file system would kill the process (SIGBUS) where pwrite() reports ENOSPC. Where that or
  // the mapping fails the image stays on pread/pwrite.
  if (size_ == 0 || ::posix_fallocate(fd_, 0, static_cast<off_t>(size_)) != 0) return;
  void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p != MAP_FAILED) map_ = static_cast<std::uint8_t*>(p);
}

namespace {
// pread/pwrite until all `n` bytes are done: the calls may move fewer bytes than asked.
template <typename Call>
bool whole(Call call, std::uint64_t offset, std::uint64_t n, std::string& error) {
  std::uint64_t done = 0;
  while (done < n) {
    const ssize_t k = call(done, static_cast<off_t>(offset + done), n - done);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      error = k == 0 ? "unexpected end of file" : std::strerror(errno);
      return false;
    }
    done += static_cast<std::uint64_t>(k);
  }
  return true;
}
}  // namespace

bool DiskImage::mapped(std::uint64_t offset, std::uint64_t n) const {
  return map_ != nullptr && offset <= size_ && n <= size_ - offset;
}

bool DiskImage::read(std::uint64_t offset, std::uint8_t* data, std::uint64_t n) {
  if (mapped(offset, n)) {
    std::memcpy(data, map_ + offset, n);
    return true;
  }
  return whole([&](std::uint64_t done, off_t at,
                   std::uint64_t left) { return ::pread(fd_, data + done, left, at); },
               offset, n, error_);
}

bool DiskImage::write(std::uint64_t offset, const std::uint8_t* data, std::uint64_t n) {
  if (mapped(offset, n)) {
    std::memcpy(map_ + offset, data, n);  // the file's page cache: other readers see it at once
    return true;
  }
  return whole([&](std::uint64_t done, off_t at,
                   std::uint64_t left) { return ::pwrite(fd_, data + done, left, at); },
               offset, n, error_);
}

bool DiskImage::flush() {
  if (fd_ < 0) return true;
  if ((map_ != nullptr && ::msync(map_, size_, MS_SYNC) != 0) || ::fsync(fd_) != 0) {
    error_ = std::strerror(errno);
    return false;
  }
  return true;
}

void DiskImage::close() {
  if (fd_ < 0) return;
  if (map_ != nullptr) {
    ::msync(map_, size_, MS_SYNC);
    ::munmap(map_, size_);
    map_ = nullptr;
  }
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace hw::devices
