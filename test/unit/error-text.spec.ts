import { errorText } from '../../lib/errors/error-text.js';

describe('errorText', () => {
  it('gives the message of an error', () => expect(errorText(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe('connect ECONNREFUSED 127.0.0.1:5432'));
  it("gives an AggregateError's first inner message when its own is empty (Node's refused connection to several addresses)", () => {
    expect(errorText(new AggregateError([new Error(''), new Error('connect ECONNREFUSED ::1:5432')], ''))).toBe('connect ECONNREFUSED ::1:5432');
  });
  it('falls back to the code', () => expect(errorText(Object.assign(new Error(''), { code: 'ECONNRESET' }))).toBe('ECONNRESET'));
  it('reads plain objects (errors from another realm) and non-objects', () => {
    expect(errorText({ message: 'from another realm' })).toBe('from another realm');
    expect(errorText('a string')).toBe('a string');
    expect(errorText(undefined)).toBe('undefined');
  });
});
