#pragma once
// Device registers as software sees them (docs/models.md; the models in hw/ are not sw/'s to
// include): the one place drivers and applications take them from.
#include <cstdint>

namespace hal::dma {

constexpr std::uint16_t kIrqStatus = 0x00;  // global: bit i = channel i has TC or ERROR with IE
// Channel registers, from channel_port().
constexpr std::uint16_t kSrc = 0x00, kDst = 0x04, kCount = 0x08, kControl = 0x0c, kStatus = 0x10;
// CONTROL.
constexpr std::uint32_t kEnable = 1u << 0, kSrcInc = 1u << 3, kDstInc = 1u << 4, kIe = 1u << 7;
constexpr unsigned kDirShift = 1, kModeShift = 5, kWidthShift = 9;
constexpr std::uint32_t kDirMemToMem = 0, kDirDevToMem = 1, kDirMemToDev = 2;
// STATUS: write 1 to clear TC and ERROR.
constexpr std::uint32_t kTc = 1u << 1, kError = 1u << 2;

constexpr std::uint64_t kChannelWindow = 0x20;  // one channel's registers
inline std::uint16_t channel_port(std::uint16_t base, unsigned channel) {
  return static_cast<std::uint16_t>(base + 0x20 * (channel + 1));
}
// The width field for 1, 2 or 4 bytes per unit.
inline std::uint32_t width_code(unsigned bytes) {
  return bytes == 4 ? 2u : bytes == 2 ? 1u : 0u;
}

}  // namespace hal::dma

// The block device (hw/devices/block_device.h).
namespace hal::disk {

constexpr std::uint16_t kData = 0x0, kCount = 0x2, kLba = 0x4, kCommand = 0x8, kStatus = 0x9,
                        kControl = 0xa, kError = 0xb, kAltStatus = 0xc;
// STATUS.
constexpr std::uint8_t kErr = 0x01, kIrq = 0x02, kDone = 0x04, kDrq = 0x08, kBusy = 0x80;
// CONTROL.
constexpr std::uint8_t kIe = 0x01, kDma = 0x02, kReset = 0x04;
// COMMAND.
constexpr std::uint8_t kRead = 0x20, kWrite = 0x30, kFlush = 0xe7, kIdentify = 0xec;
constexpr std::uint64_t kSector = 512;
constexpr std::uint64_t kWindow = 0x10;  // bytes of registers

}  // namespace hal::disk
