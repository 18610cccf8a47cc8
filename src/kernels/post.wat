;; Post-processing kernels for model outputs, in WebAssembly SIMD (128-bit). The runner calls them on
;; outputs that the runtime wrote straight into this module's memory (src/kernels/post-kernels.ts).
;; Each gives exactly what the scalar definitions in their comments give, sample for sample.
(module
  (memory (export "memory") 1)

  ;; dst[i] = floor(clamp(f64(src[i])) * scale + 0.5) as uint16, for i < n, where
  ;; clamp(v) = v > lo ? (v < hi ? v : hi) : lo (NaN lands on lo). Arithmetic in f64, as JavaScript
  ;; does it; lo >= 0 and hi * scale <= 65535, so the result is in range (rounding half up).
  ;; src: f32 at byte offset src, dst: u16 at byte offset dst. Four samples per turn: each pair is
  ;; clamped, scaled and floored as f64, then added to 2^52, which puts the integer in the low 32 bits
  ;; (x64 has no unsigned f64-to-i32 conversion; V8 emulates trunc_sat with several times the work).
  (func (export "quantise") (param $src i32) (param $dst i32) (param $n i32) (param $lo f64) (param $hi f64) (param $scale f64)
    (local $i i32) (local $end4 i32) (local $vlo v128) (local $vhi v128) (local $vscale v128) (local $half v128) (local $magic v128)
    (local $x v128) (local $a v128) (local $b v128) (local $v f64)
    (local.set $vlo (f64x2.splat (local.get $lo)))
    (local.set $vhi (f64x2.splat (local.get $hi)))
    (local.set $vscale (f64x2.splat (local.get $scale)))
    (local.set $half (f64x2.splat (f64.const 0.5)))
    (local.set $magic (f64x2.splat (f64.const 0x1p52)))
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $x (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $a (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $b (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
        (local.set $a (f64x2.add (f64x2.floor (f64x2.add (f64x2.mul
          (v128.bitselect (f64x2.pmin (local.get $vhi) (local.get $a)) (local.get $vlo) (f64x2.gt (local.get $a) (local.get $vlo)))
          (local.get $vscale)) (local.get $half))) (local.get $magic)))
        (local.set $b (f64x2.add (f64x2.floor (f64x2.add (f64x2.mul
          (v128.bitselect (f64x2.pmin (local.get $vhi) (local.get $b)) (local.get $vlo) (f64x2.gt (local.get $b) (local.get $vlo)))
          (local.get $vscale)) (local.get $half))) (local.get $magic)))
        ;; the low 16 bits of each f64's mantissa, in order
        (v128.store64_lane 0 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (i8x16.shuffle 0 1 8 9 16 17 24 25 0 1 8 9 16 17 24 25 (local.get $a) (local.get $b)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $four)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $v
          (select
            (select (local.get $v) (local.get $hi) (f64.lt (local.get $v) (local.get $hi)))
            (local.get $lo)
            (f64.gt (local.get $v) (local.get $lo))))
        (i32.store16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (i32.trunc_f64_u (f64.floor (f64.add (f64.mul (local.get $v) (local.get $scale)) (f64.const 0.5)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; For each of `rows` rows of `width` pixels: dst[r * width + c] = the first k < classes with the
  ;; largest src[p + k * plane], where p = r * stride + c (f32 elements, from byte offset src); the first
  ;; class wins ties and any comparison with NaN, as `v > best` does. dst: u8 at byte offset dst.
  (func (export "argmax") (param $src i32) (param $dst i32) (param $width i32) (param $rows i32) (param $stride i32) (param $plane i32) (param $classes i32)
    (local $r i32) (local $c i32) (local $k i32) (local $end4 i32) (local $p i32) (local $q i32)
    (local $best v128) (local $idx v128) (local $v v128) (local $m v128) (local $bestS f32) (local $idxS i32) (local $vS f32)
    (local.set $end4 (i32.and (local.get $width) (i32.const -4)))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $quad_done
          (loop $quad
            (br_if $quad_done (i32.ge_u (local.get $c) (local.get $end4)))
            ;; byte address of pixel (r, c) of class 0
            (local.set $p (i32.add (local.get $src)
              (i32.shl (i32.add (i32.mul (local.get $r) (local.get $stride)) (local.get $c)) (i32.const 2))))
            (local.set $best (v128.load (local.get $p)))
            (local.set $idx (v128.const i32x4 0 0 0 0))
            (local.set $k (i32.const 1))
            (local.set $q (local.get $p))
            (block $k_done
              (loop $class
                (br_if $k_done (i32.ge_u (local.get $k) (local.get $classes)))
                (local.set $q (i32.add (local.get $q) (i32.shl (local.get $plane) (i32.const 2))))
                (local.set $v (v128.load (local.get $q)))
                (local.set $m (f32x4.gt (local.get $v) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
                (local.set $idx (v128.bitselect (i32x4.splat (local.get $k)) (local.get $idx) (local.get $m)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $class)))
            (i32.store (i32.add (local.get $dst) (i32.add (i32.mul (local.get $r) (local.get $width)) (local.get $c)))
              (i32x4.extract_lane 0
                (i8x16.narrow_i16x8_u
                  (i16x8.narrow_i32x4_u (local.get $idx) (local.get $idx))
                  (i16x8.narrow_i32x4_u (local.get $idx) (local.get $idx)))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $quad)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $c) (local.get $width)))
            (local.set $p (i32.add (local.get $src)
              (i32.shl (i32.add (i32.mul (local.get $r) (local.get $stride)) (local.get $c)) (i32.const 2))))
            (local.set $bestS (f32.load (local.get $p)))
            (local.set $idxS (i32.const 0))
            (local.set $k (i32.const 1))
            (block $ks_done
              (loop $class_s
                (br_if $ks_done (i32.ge_u (local.get $k) (local.get $classes)))
                (local.set $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))
                (local.set $vS (f32.load (local.get $p)))
                (if (f32.gt (local.get $vS) (local.get $bestS))
                  (then (local.set $bestS (local.get $vS)) (local.set $idxS (local.get $k))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $class_s)))
            (i32.store8 (i32.add (local.get $dst) (i32.add (i32.mul (local.get $r) (local.get $width)) (local.get $c))) (local.get $idxS))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
)
