// The public surface of the package's entry points, read mechanically from the sources with
// the TypeScript checker (what `import` gives a user): every exported function, every value,
// and every exported class's constructor, static methods, methods and setters. Left out, as
// a user cannot call them: type-only exports, members that are private, protected, `#private`
// or marked `@internal`, members inherited from Node (EventEmitter), getters and readonly
// fields (reading takes no input). A member is named by the class that declares it.
import path from 'node:path';
import ts from 'typescript';

export type ApiKind = 'function' | 'value' | 'constructor' | 'static' | 'method' | 'setter';

export interface ApiMember {
  /** `selfTest`, `new PeerConnection`, `PeerConnection.create`, `DataChannel#close`, `DataChannel#bufferedAmountLowThreshold=` */
  key: string;
  kind: ApiKind;
  /** The export's name in its entry point (for the runtime cross-check). */
  exportName: string;
  /** The member's name (methods, setters, statics). */
  member?: string;
}

function isInternal(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal');
}

function hidden(decl: ts.Declaration): boolean {
  const flags = ts.getCombinedModifierFlags(decl);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return true;
  const name = ts.getNameOfDeclaration(decl);
  if (name && ts.isPrivateIdentifier(name)) return true;
  return isInternal(decl);
}

/** The public API of each entry file (absolute paths), keyed by entry. */
export function publicApi(root: string, entries: string[]): Map<string, ApiMember[]> {
  const configPath = path.join(root, 'tsconfig.json');
  const cfg = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  const program = ts.createProgram(entries, { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const libDir = path.join(root, 'lib') + path.sep;
  const ours = (d: ts.Declaration): boolean =>
    path.resolve(d.getSourceFile().fileName).startsWith(libDir);
  const out = new Map<string, ApiMember[]>();
  for (const entry of entries) {
    const sf = program.getSourceFile(entry);
    if (!sf) throw new Error(`no source file ${entry}`);
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) throw new Error(`${entry} is not a module`);
    const members: ApiMember[] = [];
    const seen = new Set<string>();
    const add = (m: ApiMember): void => {
      if (seen.has(m.key)) return;
      seen.add(m.key);
      members.push(m);
    };
    for (const exp of checker.getExportsOfModule(moduleSymbol)) {
      const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      if (!(sym.flags & ts.SymbolFlags.Value)) continue; // a type only
      const name = exp.getName();
      if (sym.flags & ts.SymbolFlags.Class) {
        const decl = sym.declarations?.find(ts.isClassDeclaration);
        if (!decl) throw new Error(`${name}: no class declaration`);
        const ctor = decl.members.find(ts.isConstructorDeclaration);
        if (!ctor || !hidden(ctor))
          add({ key: `new ${name}`, kind: 'constructor', exportName: name });
        // Instance members, own and inherited from our classes.
        const instance = checker.getDeclaredTypeOfSymbol(sym);
        for (const p of checker.getPropertiesOfType(instance)) {
          const decls = (p.declarations ?? []).filter(ours);
          if (decls.length === 0 || decls.some(hidden)) continue;
          const owner = decls[0]?.parent;
          const ownerName =
            owner && ts.isClassDeclaration(owner) && owner.name ? owner.name.text : name;
          const pname = p.getName();
          if (pname.startsWith('__@')) continue; // a symbol (asyncDispose)
          if (decls.some((d) => ts.isMethodDeclaration(d))) {
            add({ key: `${ownerName}#${pname}`, kind: 'method', exportName: name, member: pname });
          } else if (decls.some((d) => ts.isSetAccessorDeclaration(d))) {
            add({ key: `${ownerName}#${pname}=`, kind: 'setter', exportName: name, member: pname });
          }
        }
        const statics = checker.getTypeOfSymbolAtLocation(sym, decl);
        for (const p of checker.getPropertiesOfType(statics)) {
          const decls = (p.declarations ?? []).filter(ours);
          if (p.getName() === 'prototype' || decls.length === 0 || decls.some(hidden)) continue;
          if (decls.some((d) => ts.isMethodDeclaration(d)))
            add({
              key: `${name}.${p.getName()}`,
              kind: 'static',
              exportName: name,
              member: p.getName(),
            });
        }
        continue;
      }
      const decl = sym.valueDeclaration ?? sym.declarations?.[0];
      const type = decl ? checker.getTypeOfSymbolAtLocation(sym, decl) : undefined;
      const callable = (type?.getCallSignatures().length ?? 0) > 0;
      add({ key: name, kind: callable ? 'function' : 'value', exportName: name });
    }
    out.set(entry, members);
  }
  return out;
}
