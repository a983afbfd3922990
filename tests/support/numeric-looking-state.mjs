// Preloaded into the app (node --import) by tests/integration/callback.test.ts: the Kinde SDK's first 28-character
// random string, its sign-in `state`, comes out as "4623085363520662670464e92816", which JSON reads as a number
// (seen once in CI). Everything else stays random.
import { webcrypto } from "node:crypto";

const random = webcrypto.getRandomValues.bind(webcrypto);
let forced = false;
webcrypto.getRandomValues = (array) => {
  if (forced || !(array instanceof Uint32Array) || array.length !== 14) return random(array);
  forced = true;
  // generateRandomString keeps the last two hex digits of each value.
  array.set([0x46, 0x23, 0x08, 0x53, 0x63, 0x52, 0x06, 0x62, 0x67, 0x04, 0x64, 0xe9, 0x28, 0x16]);
  return array;
};
