;; TIFF horizontal differencing (Predictor 2) for 8- and 16-bit samples, in WebAssembly SIMD (128-bit),
;; in place on `rows` rows of `n` samples from byte offset `at` (src/kernels/predictor-kernels.ts). Each
;; row starts from its own first sample, and sums and differences wrap to the sample width, as libtiff's.
(module
  (memory (export "memory") 1)

  ;; x[i] = x[i] - x[i - 1] for 0 < i < n, per row. From the row's end backwards, so every sample is read
  ;; before it is overwritten: eight samples per turn, each minus the one before (an unaligned load one
  ;; sample earlier), then the first few one at a time.
  (func (export "difference16") (param $at i32) (param $n i32) (param $rows i32)
    (local $r i32) (local $row i32) (local $i i32) (local $p i32)
    (block $rows_done
      (loop $row_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $at) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 1))))
        (local.set $i (local.get $n))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.lt_s (local.get $i) (i32.const 9)))
            (local.set $i (i32.sub (local.get $i) (i32.const 8)))
            (local.set $p (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 1))))
            (v128.store (local.get $p)
              (i16x8.sub (v128.load (local.get $p)) (v128.load (i32.sub (local.get $p) (i32.const 2)))))
            (br $wide)))
        (block $narrow_done
          (loop $narrow
            (br_if $narrow_done (i32.lt_s (local.get $i) (i32.const 2)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (local.set $p (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 1))))
            (i32.store16 (local.get $p)
              (i32.sub (i32.load16_u (local.get $p)) (i32.load16_u (i32.sub (local.get $p) (i32.const 2)))))
            (br $narrow)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row_loop))))

  ;; As difference16, sixteen 8-bit samples per turn.
  (func (export "difference8") (param $at i32) (param $n i32) (param $rows i32)
    (local $r i32) (local $row i32) (local $i i32) (local $p i32)
    (block $rows_done
      (loop $row_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $at) (i32.mul (local.get $r) (local.get $n))))
        (local.set $i (local.get $n))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.lt_s (local.get $i) (i32.const 17)))
            (local.set $i (i32.sub (local.get $i) (i32.const 16)))
            (local.set $p (i32.add (local.get $row) (local.get $i)))
            (v128.store (local.get $p)
              (i8x16.sub (v128.load (local.get $p)) (v128.load (i32.sub (local.get $p) (i32.const 1)))))
            (br $wide)))
        (block $narrow_done
          (loop $narrow
            (br_if $narrow_done (i32.lt_s (local.get $i) (i32.const 2)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (local.set $p (i32.add (local.get $row) (local.get $i)))
            (i32.store8 (local.get $p)
              (i32.sub (i32.load8_u (local.get $p)) (i32.load8_u (i32.sub (local.get $p) (i32.const 1)))))
            (br $narrow)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row_loop))))

  ;; x[i] = x[0] + ... + x[i] for i < n, per row (what undoes difference16); returns 1 if any result
  ;; equals `find` (its low 16 bits), else 0. Eight samples per turn: a prefix sum within the vector in
  ;; three shifted adds (by one, two and four samples), plus the row's sum so far, which the vector's
  ;; last sample then carries to the next, in every lane.
  (func (export "accumulate16") (param $at i32) (param $n i32) (param $rows i32) (param $find i32) (result i32)
    (local $r i32) (local $row i32) (local $i i32) (local $p i32) (local $x v128) (local $carry v128) (local $acc i32)
    (local $wanted v128) (local $seen v128) (local $seenOne i32)
    (local.set $wanted (i16x8.splat (local.get $find)))
    (block $rows_done
      (loop $row_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $at) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 1))))
        (local.set $i (i32.const 0))
        (local.set $carry (v128.const i32x4 0 0 0 0))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.gt_s (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
            (local.set $p (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 1))))
            (local.set $x (v128.load (local.get $p)))
            (local.set $x (i16x8.add (local.get $x)
              (i8x16.shuffle 16 17 0 1 2 3 4 5 6 7 8 9 10 11 12 13 (local.get $x) (v128.const i32x4 0 0 0 0))))
            (local.set $x (i16x8.add (local.get $x)
              (i8x16.shuffle 16 17 18 19 0 1 2 3 4 5 6 7 8 9 10 11 (local.get $x) (v128.const i32x4 0 0 0 0))))
            (local.set $x (i16x8.add (local.get $x)
              (i8x16.shuffle 16 17 18 19 20 21 22 23 0 1 2 3 4 5 6 7 (local.get $x) (v128.const i32x4 0 0 0 0))))
            (local.set $x (i16x8.add (local.get $x) (local.get $carry)))
            (v128.store (local.get $p) (local.get $x))
            (local.set $seen (v128.or (local.get $seen) (i16x8.eq (local.get $x) (local.get $wanted))))
            (local.set $carry (i8x16.shuffle 14 15 14 15 14 15 14 15 14 15 14 15 14 15 14 15 (local.get $x) (local.get $x)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $wide)))
        (local.set $acc (i16x8.extract_lane_u 0 (local.get $carry)))
        (block $narrow_done
          (loop $narrow
            (br_if $narrow_done (i32.ge_s (local.get $i) (local.get $n)))
            (local.set $p (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 1))))
            (local.set $acc (i32.and (i32.add (local.get $acc) (i32.load16_u (local.get $p))) (i32.const 0xffff)))
            (i32.store16 (local.get $p) (local.get $acc))
            (local.set $seenOne (i32.or (local.get $seenOne) (i32.eq (local.get $acc) (i32.and (local.get $find) (i32.const 0xffff)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $narrow)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row_loop)))
    (i32.or (local.get $seenOne) (v128.any_true (local.get $seen))))

  ;; As accumulate16, sixteen 8-bit samples per turn (four shifted adds).
  (func (export "accumulate8") (param $at i32) (param $n i32) (param $rows i32) (param $find i32) (result i32)
    (local $r i32) (local $row i32) (local $i i32) (local $p i32) (local $x v128) (local $carry v128) (local $acc i32)
    (local $wanted v128) (local $seen v128) (local $seenOne i32)
    (local.set $wanted (i8x16.splat (local.get $find)))
    (block $rows_done
      (loop $row_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $at) (i32.mul (local.get $r) (local.get $n))))
        (local.set $i (i32.const 0))
        (local.set $carry (v128.const i32x4 0 0 0 0))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.gt_s (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
            (local.set $p (i32.add (local.get $row) (local.get $i)))
            (local.set $x (v128.load (local.get $p)))
            (local.set $x (i8x16.add (local.get $x)
              (i8x16.shuffle 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 (local.get $x) (v128.const i32x4 0 0 0 0))))
            (local.set $x (i8x16.add (local.get $x)
              (i8x16.shuffle 16 17 0 1 2 3 4 5 6 7 8 9 10 11 12 13 (local.get $x) (v128.const i32x4 0 0 0 0))))
            (local.set $x (i8x16.add (local.get $x)
              (i8x16.shuffle 16 17 18 19 0 1 2 3 4 5 6 7 8 9 10 11 (local.get $x) (v128.const i32x4 0 0 0 0))))
            (local.set $x (i8x16.add (local.get $x)
              (i8x16.shuffle 16 17 18 19 20 21 22 23 0 1 2 3 4 5 6 7 (local.get $x) (v128.const i32x4 0 0 0 0))))
            (local.set $x (i8x16.add (local.get $x) (local.get $carry)))
            (v128.store (local.get $p) (local.get $x))
            (local.set $seen (v128.or (local.get $seen) (i8x16.eq (local.get $x) (local.get $wanted))))
            (local.set $carry (i8x16.shuffle 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 (local.get $x) (local.get $x)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $wide)))
        (local.set $acc (i8x16.extract_lane_u 0 (local.get $carry)))
        (block $narrow_done
          (loop $narrow
            (br_if $narrow_done (i32.ge_s (local.get $i) (local.get $n)))
            (local.set $p (i32.add (local.get $row) (local.get $i)))
            (local.set $acc (i32.and (i32.add (local.get $acc) (i32.load8_u (local.get $p))) (i32.const 0xff)))
            (i32.store8 (local.get $p) (local.get $acc))
            (local.set $seenOne (i32.or (local.get $seenOne) (i32.eq (local.get $acc) (i32.and (local.get $find) (i32.const 0xff)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $narrow)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row_loop)))
    (i32.or (local.get $seenOne) (v128.any_true (local.get $seen))))
)
