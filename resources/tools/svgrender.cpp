// svgrender: renders an SVG to a square PNG with Qt's SVG renderer (the one the app uses), so
// the hicolor PNG icons are produced at build time from the SVG sources.
//   svgrender INPUT.svg OUTPUT.png SIZE

#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtGui/QPainter>
#include <QtSvg/QSvgRenderer>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    QTextStream err(stderr);
    bool sizeOk = false;
    const int size = args.size() == 4 ? args[3].toInt(&sizeOk) : 0;
    if (!sizeOk || size <= 0 || size > 4096) {
        err << "usage: svgrender INPUT.svg OUTPUT.png SIZE\n";
        return 2;
    }
    QSvgRenderer renderer(args[1]);
    if (!renderer.isValid()) {
        err << "svgrender: cannot read " << args[1] << '\n';
        return 1;
    }
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    renderer.render(&painter);
    painter.end();
    if (!image.save(args[2])) {
        err << "svgrender: cannot write " << args[2] << '\n';
        return 1;
    }
    return 0;
}
