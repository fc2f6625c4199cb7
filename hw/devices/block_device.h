#pragma once
// A block device controller (ATA-like, simplified) backed by a host disk-image file.
//
// Registers (I/O space, from the base):
//   0x0 DATA          16-bit RW  PIO data, one word per access while DRQ is set
//   0x2 SECTOR_COUNT  16-bit RW  sectors to transfer (1..65535)
//   0x4 LBA           32-bit RW  first sector
//   0x8 COMMAND        8-bit WO  READ 0x20, WRITE 0x30, FLUSH 0xE7, IDENTIFY 0xEC
//   0x9 STATUS         8-bit RO  BUSY 0x80, DRQ 0x08, DONE 0x04, IRQ 0x02 (pending), ERROR 0x01;
//                                reading it acknowledges the interrupt (lowers the line)
//   0xA CONTROL        8-bit RW  bit 0 IE (interrupts), bit 1 DMA (data through DREQ/DACK),
//                                bit 2 RESET (write 1: abandon any command; reads as 0)
//   0xB ERROR          8-bit RO  why ERROR is set (BlockError)
//   0xC ALT_STATUS     8-bit RO  STATUS without the acknowledge
//
// A command runs in phases timed from the config: the command overhead, a seek unless the LBA
// follows the previous command's last sector, then each sector's media time. Reads fill the
// one-sector buffer and raise DRQ (PIO) or DREQ (DMA) until the host has taken it; writes raise
// DRQ/DREQ for an empty buffer and write the sector to the image when it is full. With IE, the
// device interrupts on every DRQ in PIO mode and on completion (DONE) or error in both modes.
// A range past the end of the disk sets ERROR without touching the image.
#include <array>
#include <cstdint>
#include <string>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "hw/devices/disk_image.h"
#include "hw/dma/dma_peripheral.h"
#include "util/log.h"

namespace hw::devices {

constexpr std::uint64_t kSectorSize = 512;
constexpr std::uint64_t kBlockWindow = 0x10;

enum BlockStatus : std::uint8_t {
  kBlkError = 0x01,
  kBlkIrq = 0x02,
  kBlkDone = 0x04,
  kBlkDrq = 0x08,
  kBlkBusy = 0x80
};
enum BlockCommand : std::uint8_t {
  kCmdRead = 0x20,
  kCmdWrite = 0x30,
  kCmdFlush = 0xe7,
  kCmdIdentify = 0xec
};
enum BlockControl : std::uint8_t { kBlkIe = 0x01, kBlkDma = 0x02, kBlkReset = 0x04 };
enum class BlockError : std::uint8_t {
  none = 0,
  bad_range = 1,    // LBA + count past the end of the disk, or a count of 0
  bad_command = 2,  // an opcode the device does not know
  host_io = 3,      // the disk image could not be read, written or flushed
};

struct BlockTiming {
  std::uint64_t command_ps = 2'000'000;  // decode and set up a command
  std::uint64_t seek_ps = 100'000'000;   // a non-sequential LBA
  std::uint64_t sector_ps = 10'240'000;  // media time per sector (50 MB/s)
  std::uint64_t flush_ps = 1'000'000'000;
};

class BlockDevice : public sc_core::sc_module, public dma::DmaPeripheral {
 public:
  struct Stats {
    std::uint64_t commands = 0, sectors_read = 0, sectors_written = 0, flushes = 0, errors = 0;
    std::uint64_t rejected = 0;         // commands written while one was in progress
    std::uint64_t protocol_errors = 0;  // DATA accessed without DRQ
    std::uint64_t interrupts = 0, resets = 0;
  };

  tlm_utils::simple_target_socket<BlockDevice> in;
  PinOut irq{"irq"};
  PinOut dreq{"dreq"};

  BlockDevice(const sc_core::sc_module_name& name, const BlockTiming& timing);
  // Opens the image; returns "" or why not (the platform reports it as a config error).
  // An empty path: a temporary image that vanishes after the run.
  std::string open_image(const std::string& path, std::uint64_t size);
  std::uint64_t sectors() const { return image_.size() / kSectorSize; }
  const DiskImage& image() const { return image_; }
  const Stats& stats() const { return stats_; }
  std::uint8_t status() const;  // with the IRQ bit
  void trace(sc_core::sc_trace_file* tf) const;

  // --- DmaPeripheral
  std::uint64_t dma_ready(bool to_memory) const override;
  void dma_read(std::uint8_t* dst, std::uint64_t n) override;
  void dma_write(const std::uint8_t* src, std::uint64_t n) override;

 private:
  enum class Phase : std::uint8_t { idle, setup, media, host, flush };

  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void command(std::uint8_t op);
  void on_phase();      // a timed phase ended
  void host_done();     // the host has filled or emptied the buffer
  void offer_buffer();  // DRQ/DREQ for the buffer, interrupt in PIO mode
  void complete();
  void error(BlockError e);
  void interrupt();
  void schedule(std::uint64_t ps);
  void changed();  // after any change of state: IRQ and DREQ from drive()
  void drive();
  std::uint32_t data_read();
  void data_write(std::uint32_t v);
  bool protocol_ok(bool write);
  bool dma_mode() const { return control_ & kBlkDma; }

  util::Logger log_;
  RegisterBank regs_;
  BlockTiming timing_;
  DiskImage image_;
  sc_core::sc_event phase_event_, drive_event_;

  std::uint16_t count_ = 0;
  std::uint32_t lba_ = 0;
  std::uint8_t control_ = 0;
  Traced<std::uint8_t> status_ = kBlkDone;  // traced, as are the two below: they report changes
  BlockError error_ = BlockError::none;
  Traced<bool> irq_pending_ = false;

  std::uint8_t op_ = 0;
  Phase phase_ = Phase::idle;
  std::uint64_t cur_lba_ = 0, left_ = 0, next_lba_ = 0;
  std::array<std::uint8_t, kSectorSize> buf_{};
  Traced<std::uint64_t> pos_ = 0;  // bytes of the buffer the host has taken or filled
  Stats stats_;
};

}  // namespace hw::devices
