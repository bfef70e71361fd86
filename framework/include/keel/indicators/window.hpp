#pragma once
// Fixed-size windows over a stream: the building blocks of every rolling indicator. Storage is
// allocated once, at construction; push() never allocates.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace keel::indicators {

// The last `capacity` values, oldest first. push() returns the value that fell out (or 0 while
// filling), so running sums subtract it without a second lookup.
class RingWindow {
  public:
    explicit RingWindow(size_t capacity) : data_(capacity ? capacity : 1) {}
    size_t capacity() const { return data_.size(); }
    size_t size() const { return size_; }
    bool full() const { return size_ == data_.size(); }

    double push(double x) {
        double out = 0;
        if (full())
            out = data_[head_];
        else
            ++size_;
        data_[head_] = x;
        head_ = head_ + 1 == data_.size() ? 0 : head_ + 1;
        return out;
    }
    // ago = 0 is the newest value.
    double back(size_t ago = 0) const {
        assert(ago < size_);
        size_t i = head_ + data_.size() - 1 - ago;
        return data_[i >= data_.size() ? i - data_.size() : i];
    }
    // i = 0 is the oldest value still held.
    double operator[](size_t i) const { return back(size_ - 1 - i); }
    // Storage order (not time order), for sums whose order does not matter to the caller.
    const double *raw() const { return data_.data(); }
    void clear() {
        size_ = 0;
        head_ = 0;
    }

  private:
    std::vector<double> data_;
    size_t size_ = 0, head_ = 0;
};

// Highest (Greater) or lowest (Less) of the last `length` values in O(1) amortized: a monotonic
// deque of (position, value) kept in a ring of `length` slots. Ties keep the newest, which is the
// one that stays in the window longest.
template <typename Better>
class RollingExtreme {
  public:
    explicit RollingExtreme(size_t length)
        : length_(length ? length : 1), pos_(length_), val_(length_) {}
    size_t length() const { return length_; }
    bool ready() const { return count_ >= length_; }
    uint64_t count() const { return count_; }

    void push(double x) {
        // The value at position count_ - length_ leaves the window with this push (at most one
        // does: positions are distinct and the front is the oldest).
        if (n_ && pos_[front_] + length_ <= count_) pop_front();
        // Drop from the back what the new value beats or ties.
        while (n_ && !Better{}(val_[slot(n_ - 1)], x)) --n_;
        pos_[slot(n_)] = count_;
        val_[slot(n_)] = x;
        ++n_;
        ++count_;
    }
    // The extreme of the last min(length, count) values; count() > 0 required.
    double value() const { return val_[front_]; }
    void clear() {
        n_ = front_ = 0;
        count_ = 0;
    }

  private:
    size_t slot(size_t k) const {
        size_t s = front_ + k;
        return s >= length_ ? s - length_ : s;
    }
    void pop_front() {
        front_ = front_ + 1 == length_ ? 0 : front_ + 1;
        --n_;
    }
    size_t length_;
    std::vector<uint64_t> pos_;
    std::vector<double> val_;
    size_t front_ = 0, n_ = 0;
    uint64_t count_ = 0;
};

struct GreaterEq {
    bool operator()(double kept, double incoming) const { return kept > incoming; }
};
struct LessEq {
    bool operator()(double kept, double incoming) const { return kept < incoming; }
};
using RollingMax = RollingExtreme<GreaterEq>;
using RollingMin = RollingExtreme<LessEq>;

}  // namespace keel::indicators
