#include "sw/apps/dma_transfer.h"

#include <algorithm>

#include "util/log.h"

namespace apps {
namespace {
util::Logger& logger() {
  static util::Logger log("sw.dma_transfer");
  return log;
}
// DMA controller (docs/models.md): channel i at base + 0x20*(i+1).
constexpr std::uint16_t kIrqStatus = 0x00;
constexpr std::uint16_t kSrc = 0x00, kDst = 0x04, kCount = 0x08, kControl = 0x0c, kStatus = 0x10;
constexpr std::uint32_t kEnable = 1, kSrcInc = 1u << 3, kDstInc = 1u << 4, kIe = 1u << 7;
constexpr std::uint32_t kTc = 1u << 1, kError = 1u << 2;
// Block device.
constexpr std::uint16_t kDiskCount = 0x2, kDiskLba = 0x4, kDiskCommand = 0x8, kDiskControl = 0xa;
constexpr std::uint8_t kDiskRead = 0x20, kDiskDma = 0x02;
// Sampled words checked after the transfer: one per 4 KiB, and the last.
constexpr std::uint32_t kSampleStride = 4096;
}  // namespace

DmaTransfer::DmaTransfer(hw::Processor& cpu, DmaTransferParams params)
    : cpu_(cpu), p_(params), pic_(cpu, params.pic) {}

void DmaTransfer::run(std::function<void()> on_start, std::function<void()> on_end) {
  on_end_ = std::move(on_end);
  cpu_.set_trap_handler(this);
  pic_.initialize(p_.vector_base, static_cast<std::uint8_t>(p_.vector_base + 8));
  pic_.enable_irq(p_.dma_irq);
  const std::uint32_t last = (p_.bytes - 4) & ~3u;
  if (!p_.from_disk) {
    // A sparse pattern in the source (writing every word would dwarf the transfer itself).
    for (std::uint32_t off = 0; off < p_.bytes; off += kSampleStride)
      cpu_.write32(p_.src + off, pattern(off));
    cpu_.write32(p_.src + last, pattern(last));
  }
  const auto ch = static_cast<std::uint16_t>(p_.dma_port + 0x20 * (p_.channel + 1));
  const std::uint32_t width_code = p_.width == 4 ? 2 : p_.width == 2 ? 1 : 0;
  const std::uint32_t dir = p_.from_disk ? 1 : 0;
  cpu_.outl(ch + kSrc, p_.src);
  cpu_.outl(ch + kDst, p_.dst);
  cpu_.outl(ch + kCount, p_.bytes);
  if (p_.from_disk) {
    cpu_.outb(p_.disk_port + kDiskControl, kDiskDma);
    cpu_.outl(p_.disk_port + kDiskLba, 0);
    cpu_.outw(p_.disk_port + kDiskCount, static_cast<std::uint16_t>(p_.bytes / 512));
    cpu_.outb(p_.disk_port + kDiskCommand, kDiskRead);
  }
  cpu_.enable_interrupts();
  result_.start_ps = cpu_.now_ps();
  if (on_start) on_start();
  cpu_.outl(ch + kControl,
            kEnable | (dir << 1) | kSrcInc | kDstInc | (p_.mode << 5) | kIe | (width_code << 9));
  while (!done_) {
    cpu_.consume(p_.work_chunk, p_.cpu_bus_share);
    if (!done_) result_.work_cycles += p_.work_chunk;
  }
  cpu_.disable_interrupts();
  if (!p_.from_disk) {
    bool ok = true;
    for (std::uint32_t off = 0; off < p_.bytes; off += kSampleStride)
      ok = ok && cpu_.read32(p_.dst + off) == pattern(off);
    result_.verified = ok && cpu_.read32(p_.dst + last) == pattern(last);
    if (!result_.verified) logger().error("the destination does not hold the source's data");
  } else {
    result_.verified = true;  // the disk's contents are whatever the image holds
  }
}

void DmaTransfer::interrupt(std::uint8_t vector) {
  const int irq = pic_.irq_of_vector(vector);
  if (irq < 0 || static_cast<unsigned>(irq) != p_.dma_irq) {
    ++result_.unexpected;
    if (irq >= 0 && !pic_.is_spurious(static_cast<unsigned>(irq)))
      pic_.end_of_interrupt(static_cast<unsigned>(irq));
    return;
  }
  ++result_.interrupts;
  const auto ch = static_cast<std::uint16_t>(p_.dma_port + 0x20 * (p_.channel + 1));
  if (cpu_.inl(p_.dma_port + kIrqStatus) & (1u << p_.channel)) {
    result_.dma_status = cpu_.inl(ch + kStatus);
    cpu_.outl(ch + kStatus, kTc | kError);  // acknowledge: the line falls
    if (!done_) {
      done_ = true;
      result_.end_ps = cpu_.now_ps();
      result_.completed = (result_.dma_status & kTc) && !(result_.dma_status & kError);
      if (!result_.completed) logger().error("DMA channel {} ended with an error", p_.channel);
      if (on_end_) on_end_();
    }
  }
  pic_.end_of_interrupt(static_cast<unsigned>(irq));
}

void DmaTransfer::bus_error(const hw::BusFault& fault) {
  ++result_.bus_errors;
  logger().error("bus error at {} {:#x}: {}", fault.space == hw::Space::io ? "port" : "address",
                 fault.address, fault.reason);
}

}  // namespace apps
