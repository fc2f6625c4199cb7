#pragma once
// A device's registers as a driver reaches them: a window of `size` bytes at `base`, in I/O
// space or memory space, addressed by offset (the NT HAL's READ_PORT_UCHAR and
// READ_REGISTER_UCHAR behind one interface; SerenityOS's IOWindow). A driver written against a
// window runs unchanged whether its device's registers were given ports or memory.
//
// An offset outside the window is a driver bug. Hardware cannot see it — the access goes to
// base + offset, as a wild access would — but the window counts it and logs it once, so the
// bug is named rather than found later as some other device's corruption.
#include <cstdint>

#include "hw/cpu/processor.h"

namespace hal {

class RegisterWindow {
 public:
  RegisterWindow() = default;
  RegisterWindow(hw::Processor& cpu, hw::Space space, std::uint64_t base, std::uint64_t size)
      : cpu_(&cpu), space_(space), base_(base), size_(size) {}

  std::uint8_t read8(std::uint64_t offset) { return static_cast<std::uint8_t>(read(offset, 1)); }
  std::uint16_t read16(std::uint64_t offset) { return static_cast<std::uint16_t>(read(offset, 2)); }
  std::uint32_t read32(std::uint64_t offset) { return read(offset, 4); }
  void write8(std::uint64_t offset, std::uint8_t v) { write(offset, 1, v); }
  void write16(std::uint64_t offset, std::uint16_t v) { write(offset, 2, v); }
  void write32(std::uint64_t offset, std::uint32_t v) { write(offset, 4, v); }

  hw::Space space() const { return space_; }
  std::uint64_t base() const { return base_; }
  std::uint64_t size() const { return size_; }
  bool contains(std::uint64_t offset, unsigned width) const {
    return offset < size_ && width <= size_ - offset;
  }
  // Accesses that fell outside the window (driver bugs).
  std::uint64_t outside() const { return outside_; }

 private:
  std::uint32_t read(std::uint64_t offset, unsigned width) {
    check(offset, width);
    return cpu_->read(space_, base_ + offset, width);
  }
  void write(std::uint64_t offset, unsigned width, std::uint32_t v) {
    check(offset, width);
    cpu_->write(space_, base_ + offset, width, v);
  }
  void check(std::uint64_t offset, unsigned width);

  hw::Processor* cpu_ = nullptr;
  hw::Space space_ = hw::Space::io;
  std::uint64_t base_ = 0, size_ = 0, outside_ = 0;
};

}  // namespace hal
