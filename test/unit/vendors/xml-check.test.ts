import { expect } from 'chai';
import { checkXml, lintXml } from '../../../vendors/xml-check.js';
import type { TemplateInfo } from '../../../vendors/vendor.js';

const info = (rootElement: string): TemplateInfo => ({ name: 'device', view: 'device', source: null, format: 'xml', rootElement });

describe('XML well-formedness check', () => {
  it('accepts what phones get', () => {
    const doc = '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<a x="1" y=\'&amp;&#10;&#x1F600;\'>\n  <b/>text &lt; <![CDATA[<raw>]]><?pi x?>\n</a >\n<!-- after -->\n';
    expect(checkXml(doc)).to.deep.equal({ root: 'a', problems: [] });
    expect(checkXml('<polycomConfig reg.1.address="1001"/>').root).to.equal('polycomConfig');
  });

  const bad: Array<[string, number, RegExp]> = [
    ['', 1, /no root element/],
    ['<a>\n<b></a>', 2, /does not close/],
    ['<a/><b/>', 1, /second root/],
    ['<a/>\ntext', 2, /text after/],
    ['text<a/>', 1, /text before/],
    ['<a x="1" x="2"/>', 1, /duplicate attribute/],
    ['<a x=1/>', 1, /unquoted/],
    ['<a x="<"/>', 1, /'<' in the value/],
    ['<a x="&amp"/>', 1, /entity reference/],
    ['<a>&foo;</a>', 1, /unknown entity/],
    ['<a>&#0;</a>', 1, /not an XML character/],
    ['<a>\n\u0001</a>', 2, /U\+0001/],
    ['<a>]]></a>', 1, /']]>'/],
    ['<a><!-- x -- y --></a>', 1, /'--' inside a comment/],
    ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 1, /DOCTYPE/],
    ['<a>\n\n<b>', 3, /unclosed element <b>/],
    ['<a\n  b="1"c="2"/>', 2, /whitespace before an attribute/],
    ['\n<?xml version="1.0"?><a/>', 2, /XML declaration not at the start/],
    ['<1a/>', 1, /expected element name/],
    ['<a x="1"', 1, /unterminated start tag/],
  ];
  for (const [doc, line, reason] of bad) {
    it(`refuses ${JSON.stringify(doc)} at line ${line}`, () => {
      const { root, problems } = checkXml(doc);
      expect(root).to.equal(null);
      expect(problems).to.have.length(1);
      expect(problems[0]?.line).to.equal(line);
      expect(problems[0]?.reason).to.match(reason);
    });
  }

  it('lintXml checks the root element', () => {
    expect(lintXml('<config/>', info('config'))).to.deep.equal([]);
    expect(lintXml('<?xml version="1.0"?>\n<polycomConfig/>', info('APPLICATION'))).to.deep.equal([
      { line: 2, reason: 'root element is <polycomConfig>, expected <APPLICATION>' },
    ]);
  });

  it('is linear: a 1 MB document of nested elements and one of ampersands', () => {
    const started = Date.now();
    checkXml('<a>' + '<b x="1">t</b>'.repeat(70_000) + '</a>');
    checkXml('<a>' + '&'.repeat(1_000_000) + '</a>');
    checkXml('<a>' + '<'.repeat(1_000_000));
    expect(Date.now() - started).to.be.lessThan(2_000);
  });
});
