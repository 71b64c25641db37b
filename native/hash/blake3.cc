// BLAKE3 whole-message hashing (spec sections 2.3-2.6): the chunk state, the lazily merged stack
// of subtree chaining values, the extendable root output, and the keyed_hash / derive_key modes.
// Runs of whole chunks are hashed as aligned subtrees through the backend's hashMany, so long
// messages use the SIMD kernels too.
#include <algorithm>

#include "hash/blake3_impl.h"
#include "hash/hash.h"

namespace pg {
namespace hash {

using namespace detail;

namespace {
constexpr size_t kMaxSubtreeChunks = 64;  // 64 KiB per subtree: 2 KiB of chaining values on the stack

int PopCount(uint64_t x) {
  int n = 0;
  for (; x; x &= x - 1) ++n;
  return n;
}

// A node whose chaining value or root output has not been computed yet.
struct OutputNode {
  uint32_t cv[8];
  uint8_t block[64];
  uint8_t blockLen;
  uint64_t counter;
  uint8_t flags;

  void ChainingValue(uint32_t out[8]) const {
    for (int i = 0; i < 8; ++i) out[i] = cv[i];
    CompressInPlace(out, block, blockLen, counter, flags);
  }
  void RootBytes(uint64_t seek, uint8_t* out, size_t outLen) const {
    uint64_t blockIndex = seek / 64;
    size_t skip = static_cast<size_t>(seek % 64);
    while (outLen > 0) {
      uint8_t buf[64];
      CompressXof(cv, block, blockLen, blockIndex, flags | kRoot, buf);
      size_t take = std::min(outLen, 64 - skip);
      std::memcpy(out, buf + skip, take);
      out += take;
      outLen -= take;
      skip = 0;
      ++blockIndex;
    }
  }
};

OutputNode ParentNode(const uint32_t key[8], uint8_t flags, const uint32_t left[8], const uint32_t right[8]) {
  OutputNode n;
  for (int i = 0; i < 8; ++i) n.cv[i] = key[i];
  StoreCv(n.block, left);
  StoreCv(n.block + 32, right);
  n.blockLen = 64;
  n.counter = 0;
  n.flags = flags | kParent;
  return n;
}
}  // namespace

Blake3::Blake3(const Blake3Kernel* kernel) : Blake3(kIV, 0, kernel) {}

Blake3::Blake3(const uint32_t key[8], uint8_t flags, const Blake3Kernel* kernel)
    : kernel_(kernel ? kernel : ActiveBlake3Kernel()), flags_(flags) {
  for (int i = 0; i < 8; ++i) key_[i] = cv_[i] = key[i];
  std::memset(block_, 0, sizeof block_);
}

Blake3 Blake3::Keyed(const uint8_t key[32], const Blake3Kernel* kernel) {
  uint32_t words[8];
  LoadCv(words, key);
  return Blake3(words, kKeyedHash, kernel);
}

Blake3 Blake3::DeriveKey(const char* context, const Blake3Kernel* kernel) {
  return DeriveKey(reinterpret_cast<const uint8_t*>(context), std::strlen(context), kernel);
}

// derive_key (spec section 2.5): hash the context string in its own domain, then use that
// 32-byte result as the key for the key material.
Blake3 Blake3::DeriveKey(const uint8_t* context, size_t contextLen, const Blake3Kernel* kernel) {
  Blake3 ctx(kIV, kDeriveKeyContext, kernel);
  ctx.Update(context, contextLen);
  uint8_t contextKey[32];
  ctx.Finalize(contextKey, sizeof contextKey);
  uint32_t words[8];
  LoadCv(words, contextKey);
  return Blake3(words, kDeriveKeyMaterial, kernel);
}

// Absorbs at most the rest of the current chunk. The last block stays buffered until more input
// arrives, because only then is it known not to carry CHUNK_END (or ROOT).
void Blake3::ChunkUpdate(const uint8_t* data, size_t len) {
  while (len > 0) {
    if (blockLen_ == kBlockLen) {
      CompressInPlace(cv_, block_, kBlockLen, chunkCounter_, flags_ | (blocksCompressed_ == 0 ? kChunkStart : 0));
      ++blocksCompressed_;
      blockLen_ = 0;
      std::memset(block_, 0, sizeof block_);
    }
    size_t take = std::min(len, kBlockLen - blockLen_);
    std::memcpy(block_ + blockLen_, data, take);
    blockLen_ = static_cast<uint8_t>(blockLen_ + take);
    data += take;
    len -= take;
  }
}

void Blake3::ParentCv(const uint32_t left[8], const uint32_t right[8], uint32_t out[8]) const {
  ParentNode(key_, flags_, left, right).ChainingValue(out);
}

// Merges the top entries until one is left per set bit of `chunksBefore`: the stack then holds
// exactly the complete subtrees of the binary tree over that many chunks.
void Blake3::MergeStack(uint64_t chunksBefore) {
  const int keep = PopCount(chunksBefore);
  while (stackLen_ > keep) {
    uint32_t parent[8];
    ParentCv(cvStack_[stackLen_ - 2], cvStack_[stackLen_ - 1], parent);
    stackLen_ -= 2;
    std::memcpy(cvStack_[stackLen_], parent, sizeof parent);
    ++stackLen_;
  }
}

// Pushes the chaining value of a subtree that starts at chunk `chunkCounter`. Entries are merged
// lazily, down to one per set bit of the number of chunks before it, so the newest entry is
// never merged until something follows it.
void Blake3::PushCv(const uint32_t cv[8], uint64_t chunkCounter) {
  MergeStack(chunkCounter);
  std::memcpy(cvStack_[stackLen_], cv, 32);
  ++stackLen_;
}

void Blake3::Update(const uint8_t* data, size_t len) {
  while (len > 0) {
    const size_t chunkLen = blocksCompressed_ * kBlockLen + blockLen_;
    if (chunkLen == kChunkLen) {
      // The chunk is complete and more input follows: it is not the root.
      OutputNode node;
      std::memcpy(node.cv, cv_, sizeof cv_);
      std::memcpy(node.block, block_, sizeof block_);
      node.blockLen = blockLen_;
      node.counter = chunkCounter_;
      node.flags = flags_ | kChunkEnd | (blocksCompressed_ == 0 ? kChunkStart : 0);
      uint32_t cv[8];
      node.ChainingValue(cv);
      PushCv(cv, chunkCounter_);
      ++chunkCounter_;
      std::memcpy(cv_, key_, sizeof key_);
      std::memset(block_, 0, sizeof block_);
      blockLen_ = 0;
      blocksCompressed_ = 0;
      continue;
    }
    if (chunkLen == 0 && len > kChunkLen) {
      // Whole chunks with more input after them: hash the largest aligned power-of-two run as one
      // subtree (its chunk counter must be a multiple of its size to be a subtree of the tree).
      size_t n = 1;
      while (n * 2 <= kMaxSubtreeChunks && n * 2 * kChunkLen < len) n *= 2;
      while (chunkCounter_ & (n - 1)) n /= 2;
      if (n >= 2) {
        const uint8_t* inputs[kMaxSubtreeChunks];
        uint8_t cvs[kMaxSubtreeChunks * 32];
        uint8_t next[kMaxSubtreeChunks / 2 * 32];
        for (size_t i = 0; i < n; ++i) inputs[i] = data + i * kChunkLen;
        kernel_->hashMany(inputs, n, kChunkLen / kBlockLen, key_, chunkCounter_, true, flags_, kChunkStart, kChunkEnd,
                          cvs);
        for (size_t m = n; m > 1; m /= 2) {
          for (size_t i = 0; i < m / 2; ++i) inputs[i] = cvs + 64 * i;
          kernel_->hashMany(inputs, m / 2, 1, key_, 0, false, flags_ | kParent, 0, 0, next);
          std::memcpy(cvs, next, m / 2 * 32);
        }
        uint32_t cv[8];
        LoadCv(cv, cvs);
        PushCv(cv, chunkCounter_);
        chunkCounter_ += n;
        data += n * kChunkLen;
        len -= n * kChunkLen;
        continue;
      }
    }
    const size_t take = std::min(len, kChunkLen - chunkLen);
    ChunkUpdate(data, take);
    data += take;
    len -= take;
  }
  // Input now ends inside the current chunk, so the entries below it are final: merge them, or
  // Finalize would fold them in the wrong shape.
  if (blocksCompressed_ != 0 || blockLen_ != 0) MergeStack(chunkCounter_);
}

void Blake3::Finalize(uint8_t* out, size_t outLen) const { FinalizeSeek(0, out, outLen); }

void Blake3::FinalizeSeek(uint64_t seek, uint8_t* out, size_t outLen) const {
  OutputNode node;
  std::memcpy(node.cv, cv_, sizeof cv_);
  std::memcpy(node.block, block_, sizeof block_);
  node.blockLen = blockLen_;
  node.counter = chunkCounter_;
  node.flags = flags_ | kChunkEnd | (blocksCompressed_ == 0 ? kChunkStart : 0);
  // Fold the current chunk into the stack from the top; the last parent is the root.
  for (int i = stackLen_ - 1; i >= 0; --i) {
    uint32_t right[8];
    node.ChainingValue(right);
    node = ParentNode(key_, flags_, cvStack_[i], right);
  }
  node.RootBytes(seek, out, outLen);
}

void Blake3Hash(const uint8_t* data, size_t len, uint8_t* out, size_t outLen, const Blake3Kernel* kernel) {
  Blake3 h(kernel);
  h.Update(data, len);
  h.Finalize(out, outLen);
}

void Blake3Pages(const uint8_t* pages, size_t count, uint8_t* out) { ActiveBlake3Kernel()->pages(pages, count, out); }

void Blake3Pages(const Blake3Kernel* kernel, const uint8_t* pages, size_t count, uint8_t* out) {
  (kernel ? kernel : ActiveBlake3Kernel())->pages(pages, count, out);
}

}  // namespace hash
}  // namespace pg
