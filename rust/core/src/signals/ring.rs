//! A fixed-capacity ring buffer: the one container every estimator of SPEC 4 keeps history in,
//! so that its memory is bounded by construction and a steady-state update never allocates.

/// Keeps the last `capacity` values pushed; pushing onto a full ring evicts the oldest.
/// The storage is allocated once, in [`Ring::new`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ring<T> {
    buf: Box<[T]>,
    /// Physical index of the oldest element.
    head: usize,
    len: usize,
}

impl<T: Copy + Default> Ring<T> {
    /// Returns an empty ring holding at most `capacity` values (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: vec![T::default(); capacity.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    /// The fixed number of values the ring can hold.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    #[inline]
    fn phys(&self, i: usize) -> usize {
        let p = self.head + i;
        if p >= self.buf.len() {
            p - self.buf.len()
        } else {
            p
        }
    }

    /// Appends `v` as the newest value; returns the value evicted to make room, if any.
    #[inline]
    pub fn push(&mut self, v: T) -> Option<T> {
        if self.len == self.buf.len() {
            let old = std::mem::replace(&mut self.buf[self.head], v);
            self.head = self.phys(1);
            Some(old)
        } else {
            let p = self.phys(self.len);
            self.buf[p] = v;
            self.len += 1;
            None
        }
    }

    /// Removes and returns the oldest value.
    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let v = self.buf[self.head];
        self.head = self.phys(1);
        self.len -= 1;
        Some(v)
    }

    /// The oldest value.
    #[inline]
    pub fn front(&self) -> Option<&T> {
        (self.len > 0).then(|| &self.buf[self.head])
    }

    /// The newest value.
    #[inline]
    pub fn back(&self) -> Option<&T> {
        (self.len > 0).then(|| &self.buf[self.phys(self.len - 1)])
    }

    /// The newest value, mutably.
    #[inline]
    pub fn back_mut(&mut self) -> Option<&mut T> {
        if self.len == 0 {
            return None;
        }
        let p = self.phys(self.len - 1);
        Some(&mut self.buf[p])
    }

    /// The `i`-th oldest value (0 is the oldest).
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        (i < self.len).then(|| self.buf[self.phys(i)])
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// The values, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        (0..self.len).map(move |i| &self.buf[self.phys(i)])
    }

    /// The two contiguous runs of the last `n` values (oldest first): their concatenation is
    /// those values in order. `n` is clamped to the length.
    pub fn tail_slices(&self, n: usize) -> (&[T], &[T]) {
        let n = n.min(self.len);
        let start = self.phys(self.len - n);
        let cap = self.buf.len();
        if start + n <= cap {
            (&self.buf[start..start + n], &[])
        } else {
            (&self.buf[start..], &self.buf[..start + n - cap])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_capacity_values_and_never_grows() {
        let mut r = Ring::<u32>::new(3);
        assert!(r.is_empty() && r.capacity() == 3);
        assert_eq!(r.push(1), None);
        assert_eq!(r.push(2), None);
        assert_eq!(r.push(3), None);
        assert!(r.is_full());
        assert_eq!(r.push(4), Some(1));
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        for i in 0..1000 {
            r.push(i);
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.capacity(), 3);
        assert_eq!((r.front(), r.back()), (Some(&997), Some(&999)));
        assert_eq!(r.get(1), Some(998));
        assert_eq!(r.get(3), None);
    }

    #[test]
    fn pop_front_and_clear() {
        let mut r = Ring::<i64>::new(2);
        r.push(5);
        r.push(6);
        r.push(7);
        assert_eq!(r.pop_front(), Some(6));
        assert_eq!(r.pop_front(), Some(7));
        assert_eq!(r.pop_front(), None);
        r.push(1);
        *r.back_mut().unwrap() = 9;
        assert_eq!(r.back(), Some(&9));
        r.clear();
        assert!(r.is_empty() && r.front().is_none());
    }

    #[test]
    fn tail_slices_cover_the_wrap() {
        let mut r = Ring::<u8>::new(5);
        for i in 0..8 {
            r.push(i);
        }
        // Holds 3..=7 with the wrap after 4.
        for n in 0..=6 {
            let (a, b) = r.tail_slices(n);
            let got: Vec<u8> = a.iter().chain(b).copied().collect();
            let want: Vec<u8> = (0..8u8).rev().take(n.min(5)).rev().collect();
            assert_eq!(got, want, "n = {n}");
        }
    }
}
