;; The stand-in's own cut-index module, written for this project (NEPSE's css.wasm is not vendored).
;;
;; Contract shared with NEPSE's module, as documented in docs/NEPSE_API.md section 1:
;;   * exports cdx, rdx, bdx, ndx, mdx; each takes five i32 and returns one i32;
;;   * each result depends only on the 2nd argument (the salt that selects the token);
;;   * results fall in [25,31], [36,59], [64,87], [91,106], [113,128], so they are strictly ascending.
;; Each export hashes the salt with its own key and folds the hash into its range.
(module
  ;; A small integer hash (multiply / xor-shift). Only its spread matters, not cryptographic strength.
  (func $mix (param $salt i32) (param $key i32) (result i32)
    (local $h i32)
    (local.set $h (i32.mul (i32.xor (local.get $salt) (local.get $key)) (i32.const 0x9E3779B1)))
    (local.set $h (i32.mul (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15)))
                           (i32.const 0x85EBCA6B)))
    (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))))

  ;; lowest + (mix(salt, key) mod width), unsigned so negative salts still land in range
  (func $cut (param $salt i32) (param $key i32) (param $lowest i32) (param $width i32) (result i32)
    (i32.add (local.get $lowest)
             (i32.rem_u (call $mix (local.get $salt) (local.get $key)) (local.get $width))))

  (func (export "cdx") (param i32 i32 i32 i32 i32) (result i32)
    (call $cut (local.get 1) (i32.const 0x1B873593) (i32.const 25) (i32.const 7)))
  (func (export "rdx") (param i32 i32 i32 i32 i32) (result i32)
    (call $cut (local.get 1) (i32.const 0x27D4EB2F) (i32.const 36) (i32.const 24)))
  (func (export "bdx") (param i32 i32 i32 i32 i32) (result i32)
    (call $cut (local.get 1) (i32.const 0x165667B1) (i32.const 64) (i32.const 24)))
  (func (export "ndx") (param i32 i32 i32 i32 i32) (result i32)
    (call $cut (local.get 1) (i32.const 0x61C88647) (i32.const 91) (i32.const 16)))
  (func (export "mdx") (param i32 i32 i32 i32 i32) (result i32)
    (call $cut (local.get 1) (i32.const 0x7FEB352D) (i32.const 113) (i32.const 16)))
)
