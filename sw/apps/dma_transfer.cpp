#include "sw/apps/dma_transfer.h"

#include <algorithm>

#include "sw/hal/device_regs.h"
#include "util/log.h"

namespace apps {
namespace {
util::Logger& logger() {
  static util::Logger log("sw.dma_transfer");
  return log;
}
using namespace hal::dma;
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
  if (!p_.from_disk) {
    // A sparse pattern in the source (writing every word would dwarf the transfer itself): a
    // word every kSampleStride bytes where a whole word fits, and the last (up to 4) bytes one
    // by one, so a transfer of any length, 1 byte included, is checked inside its own region.
    for (std::uint32_t off = 0; off + 4 <= p_.bytes; off += kSampleStride)
      cpu_.write32(p_.src + off, pattern(off));
    for (std::uint32_t off = tail_start(); off < p_.bytes; ++off)
      cpu_.write(hw::Space::memory, p_.src + off, 1, byte_pattern(off));
  }
  const std::uint16_t ch = hal::dma::channel_port(p_.dma_port, p_.channel);
  const std::uint32_t width_code = hal::dma::width_code(p_.width);
  const std::uint32_t dir = p_.from_disk ? kDirDevToMem : kDirMemToMem;
  cpu_.outl(ch + kSrc, p_.src);
  cpu_.outl(ch + kDst, p_.dst);
  cpu_.outl(ch + kCount, p_.bytes);
  if (p_.from_disk) {
    cpu_.outb(p_.disk_port + hal::disk::kControl, hal::disk::kDma);
    cpu_.outl(p_.disk_port + hal::disk::kLba, 0);
    cpu_.outw(p_.disk_port + hal::disk::kCount, static_cast<std::uint16_t>(p_.bytes / 512));
    cpu_.outb(p_.disk_port + hal::disk::kCommand, hal::disk::kRead);
  }
  cpu_.enable_interrupts();
  result_.start_ps = cpu_.now_ps();
  if (on_start) on_start();
  cpu_.outl(ch + kControl, kEnable | (dir << kDirShift) | kSrcInc | kDstInc |
                               (p_.mode << kModeShift) | kIe | (width_code << kWidthShift));
  while (!done_) {
    cpu_.consume(p_.work_chunk, p_.cpu_bus_share);
    if (!done_) result_.work_cycles += p_.work_chunk;
  }
  cpu_.disable_interrupts();
  if (!p_.from_disk) {
    bool ok = true;
    for (std::uint32_t off = 0; off + 4 <= p_.bytes; off += kSampleStride)
      ok = ok && cpu_.read32(p_.dst + off) == pattern(off);
    for (std::uint32_t off = tail_start(); off < p_.bytes; ++off)
      ok = ok && cpu_.read(hw::Space::memory, p_.dst + off, 1) == byte_pattern(off);
    result_.verified = ok;
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
  const std::uint16_t ch = hal::dma::channel_port(p_.dma_port, p_.channel);
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
