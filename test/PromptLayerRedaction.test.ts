/**
 * The ready-made maskers, each against a table of texts it must mask (false negatives) and texts
 * it must leave alone (false positives), and their composition.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  composeMaskers,
  type MaskInfo,
  type Masker,
  maskApiKeys,
  maskCardNumbers,
  maskCommon,
  maskEmails
} from "../src/PromptLayerRedaction.js"

const info: MaskInfo = { path: "input.messages[0].content[0].text", kind: "input" }

/** `[text, expected]`: what the masker must make of each text. */
type Case = readonly [string, string]

const table = (masker: Masker, masked: ReadonlyArray<Case>, kept: ReadonlyArray<string>) => {
  for (const [text, expected] of masked) {
    it(`masks ${JSON.stringify(text)}`, () => {
      assert.strictEqual(masker(text, info), expected)
    })
  }
  for (const text of kept) {
    it(`keeps ${JSON.stringify(text)}`, () => {
      assert.strictEqual(masker(text, info), text)
    })
  }
}

describe("maskEmails", () => {
  table(
    maskEmails,
    [
      ["write to jane.doe@example.com today", "write to [email] today"],
      ["<john+tag@mail.co.uk>", "<[email]>"],
      ["A_B-c%d@sub-domain.example.org, x@y.io", "[email], [email]"],
      ["mailto:ops@company.travel", "mailto:[email]"],
      ["UPPER@EXAMPLE.COM.", "[email]."]
    ],
    [
      "ping @channel and @here",
      "user@localhost is a local account",
      "npm i lodash@4.17.21 react@18.2.0",
      "the retina asset icon@2x.png and logo@3x.jpeg",
      "a decorator @Component({}) and an at sign: 5 @ 3",
      "no address here"
    ]
  )
})

describe("maskCardNumbers", () => {
  table(
    maskCardNumbers,
    [
      ["card 4111111111111111 exp 12/29", "card [card] exp 12/29"],
      ["4111 1111 1111 1111", "[card]"],
      ["5500-0000-0000-0004.", "[card]."],
      ["amex 3782 822463 10005", "amex [card]"],
      ["amex 378282246310005", "amex [card]"],
      ["discover 6011111111111117", "discover [card]"],
      ["visa-13 4222222222222", "visa-13 [card]"],
      ["mastercard 2-series 2223000048400011", "mastercard 2-series [card]"],
      ["19 digits 4111111111111111110 end", "19 digits [card] end"]
    ],
    [
      "4111111111111112 fails Luhn",
      "4111 1111 1111 1112",
      "epoch ms 1733325591000 and ns 1733325591000123456",
      "order 1234567812345670 starts with 1",
      "phone +1 415 555 0100 and 0044 20 7946 0958",
      "uuid 41111111-1111-1111-1111-111111111111",
      "decimal 0.4111111111111111",
      "mixed separators 4111-1111 1111-1111",
      "too long 41111111111111111111111",
      "12 digits 411111111111"
    ]
  )
})

describe("maskApiKeys", () => {
  table(
    maskApiKeys,
    [
      ["key sk-abcdefghijklmnopqrstuvwxyz123456", "key [secret]"],
      ["sk-proj-AbCdEf1234567890AbCdEf1234567890_-xyz", "[secret]"],
      ["sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "[secret]"],
      ["PROMPTLAYER_API_KEY=pl_0123456789abcdef0123456789abcdef", "PROMPTLAYER_API_KEY=[secret]"],
      ["aws AKIAIOSFODNN7EXAMPLE", "aws [secret]"],
      ["ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "[secret]"],
      ["github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "[secret]"],
      ["slack xoxb-1234567890-abcdefghij", "slack [secret]"],
      ["AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "[secret]"],
      ["stripe sk_live_51H8abcDEF123ghiJKL456", "stripe [secret]"],
      ["Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [secret]"],
      ["authorization: basic dXNlcjpwYXNzd29yZA==", "authorization: basic [secret]"],
      [
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "jwt [secret]"
      ],
      ["token=Zx8Kq2Lm9Vb4Nw7Rt1Yp3Hs6Jd0Fg5Ca then", "token=[secret] then"],
      [
        "https://bucket.example.com/a.pdf?X-Sig=Zx8Kq2Lm9Vb4Nw7Rt1Yp3Hs6Jd0Fg5Ca%3D",
        "https://bucket.example.com/a.pdf?X-Sig=[secret]%3D"
      ]
    ],
    [
      "uuid 0b0d5e4c-8f1a-4c2b-9d3e-7f6a5b4c3d2e",
      "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "https://github.com/org/repo/commit/4a1c2b3d4e5f60718293a4b5c6d7e8f901234567",
      "md5 d41d8cd98f00b204e9800998ecf8427e",
      "the method getUserAccountPreferencesByIdentifierV2",
      "a_very_long_snake_case_identifier_with_words_2024",
      "sk-short is not a key",
      "task-1234567890 and desk-abcdef",
      "a Bearer of bad news",
      "short base64 dXNlcjpwYXNzd29yZA== inline",
      "AKIA too short AKIA1234"
    ]
  )
})

describe("composeMaskers", () => {
  it("chains maskers left to right, each on the previous one's result", () => {
    const calls: Array<string> = []
    const first: Masker = (text, { kind }) => {
      calls.push(`first:${kind}`)
      return text.replace("a", "b")
    }
    const second: Masker = (text) => {
      calls.push("second")
      return text.replace("b", "c")
    }
    assert.strictEqual(composeMaskers(first, second)("a", info), "c")
    assert.deepStrictEqual(calls, ["first:input", "second"])
  })

  it("maskCommon masks the three kinds in one text", () => {
    const text = "mail jane@example.com, card 4111 1111 1111 1111, key sk-abcdefghijklmnopqrstuvwxyz123456"
    assert.strictEqual(maskCommon(text, info), "mail [email], card [card], key [secret]")
  })

  it("with no maskers, is the identity", () => {
    assert.strictEqual(composeMaskers()("kept", info), "kept")
  })
})

describe("the maskers on adversarial texts", () => {
  // Linear scans: each 200 KB text takes milliseconds; a pattern that backtracked quadratically
  // would take minutes, so the bound is generous enough for a loaded machine.
  const texts = {
    letters: "a".repeat(200_000),
    "letters around an @": `${"a".repeat(100_000)}@${"b".repeat(100_000)}`,
    "dashed labels after an @": `x@${"a-".repeat(100_000)}`,
    digits: "4".repeat(200_000),
    "digit groups": "4111 ".repeat(40_000),
    "mixed-case token": "Ab1".repeat(70_000),
    "dots before an @": `${"a.".repeat(100_000)}@`,
    "a long bearer": `Bearer ${"a".repeat(200_000)}`,
    "a long sk- prefix": `sk-${"a-".repeat(100_000)}`
  }
  for (const [name, text] of Object.entries(texts)) {
    it(`maskCommon on ${name} (200 KB) takes well under a second`, () => {
      const started = performance.now()
      const masked = maskCommon(text, info)
      assert.isString(masked)
      assert.isBelow(performance.now() - started, 1000)
    })
  }
})
