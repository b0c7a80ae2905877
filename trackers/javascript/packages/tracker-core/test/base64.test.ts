import { describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode, utf8Bytes, utf8Length } from '@plowline/tracker-core';

const samples = ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar', 'ünïcödé', '日本語', '🚀 rocket', '{"a":"b?c/d+e"}', '\u0000\u007f\u0080\u07ff\u0800\uffff'];

describe('base64url', () => {
  it.each(samples)('matches Node Buffer base64url for %j, padding stripped', (s) => {
    expect(base64urlEncode(s)).toBe(Buffer.from(s, 'utf8').toString('base64url'));
    expect(base64urlEncode(s)).not.toContain('=');
  });

  it.each(samples)('round-trips %j', (s) => {
    expect(base64urlDecode(base64urlEncode(s))).toBe(s);
  });

  it('uses the URL-safe alphabet', () => {
    expect(base64urlEncode('\u00fb\u00ff')).toBe(Buffer.from('\u00fb\u00ff').toString('base64url'));
    expect(base64urlEncode('>>>???')).toBe('Pj4-Pz8_');
  });

  it('decodes the standard alphabet and padding too (as enrich does)', () => {
    expect(base64urlDecode('Pj4+Pz8/')).toBe('>>>???');
    expect(base64urlDecode('Zm8=')).toBe('fo');
  });

  it('refuses characters outside both alphabets', () => {
    expect(() => base64urlDecode('ab$c')).toThrow(TypeError);
  });

  it('encodes random strings like Buffer does (property)', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      const len = rand(40);
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCodePoint(rand(4) === 0 ? 0x10000 + rand(0xfffff) : rand(0xd7ff));
      expect(base64urlEncode(s)).toBe(Buffer.from(s, 'utf8').toString('base64url'));
      expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
      expect(utf8Bytes(s)).toEqual([...Buffer.from(s, 'utf8')]);
    }
  });

  it('replaces lone surrogates like TextEncoder', () => {
    expect(utf8Bytes('a\ud800b')).toEqual([...new TextEncoder().encode('a\ud800b')]);
    expect(utf8Length('a\udc00')).toBe(new TextEncoder().encode('a\udc00').length);
  });
});
